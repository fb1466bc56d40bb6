from urllib.parse import urlencode, urlsplit

from django import template

from ..app_settings import app_settings
from ..providers import configured_providers

register = template.Library()


@register.simple_tag(takes_context=True)
def login_providers(context):
    """The configured login providers (cached; see providers.py)."""
    return configured_providers(context["request"])


@register.simple_tag
def return_to(thread, reply_to=None) -> str:
    """Where a login from the reply form comes back to: the report's path (on this site, so it
    passes the ``next`` check), at the form, answering the same reply."""
    parts = urlsplit(getattr(thread, "url", "") or "/")
    path = parts.path or "/"
    if reply_to is not None:
        return f"{path}?{urlencode({'replyto': reply_to.pk})}#respond"
    return f"{path}#respond"


@register.simple_tag
def pseudonyms_open() -> bool:
    """Whether the reply form offers "reply under a pseudonym" (``SPEAKOUT_PSEUDONYMS``)."""
    return app_settings.PSEUDONYMS
