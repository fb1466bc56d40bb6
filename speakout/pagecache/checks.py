from django.conf import settings
from django.core.checks import Error, register

MIDDLEWARE = "speakout.pagecache.middleware.PageCacheMiddleware"
CSRF = "django.middleware.csrf.CsrfViewMiddleware"
CONTEXT_PROCESSOR = "speakout.pagecache.holes.csrf"


@register()
def check_setup(app_configs, **kwargs):
    """The cache must sit inside CsrfViewMiddleware (which sets each reader's cookie) and the
    placeholder context processor must be on, or a cached page could carry a real token."""
    errors = []
    middleware = list(settings.MIDDLEWARE)
    if MIDDLEWARE in middleware and (CSRF not in middleware or middleware.index(CSRF) > middleware.index(MIDDLEWARE)):
        errors.append(Error(f"{MIDDLEWARE} must come after {CSRF} in MIDDLEWARE.", id="speakout_pagecache.E001"))
    processors = [p for engine in settings.TEMPLATES for p in engine.get("OPTIONS", {}).get("context_processors", [])]
    if MIDDLEWARE in middleware and CONTEXT_PROCESSOR not in processors:
        errors.append(
            Error(f"Add {CONTEXT_PROCESSOR} to the template context processors.", id="speakout_pagecache.E002")
        )
    return errors
