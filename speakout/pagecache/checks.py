from django.conf import settings
from django.core.checks import Error, register

MIDDLEWARE = "speakout.pagecache.middleware.PageCacheMiddleware"
CONTEXT_PROCESSOR = "speakout.pagecache.holes.csrf"


@register()
def check_setup(app_configs, **kwargs):
    """The context processor that keeps CSRF tokens out of pages rendered for the cache must be on,
    or every such page reads a real token and is never stored."""
    processors = [p for engine in settings.TEMPLATES for p in engine.get("OPTIONS", {}).get("context_processors", [])]
    if MIDDLEWARE in settings.MIDDLEWARE and CONTEXT_PROCESSOR not in processors:
        return [Error(f"Add {CONTEXT_PROCESSOR} to the template context processors.", id="speakout_pagecache.E002")]
    return []
