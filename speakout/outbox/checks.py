"""Start-up checks of the outbox: a bounce mailbox URL that cannot work stops the start."""

from __future__ import annotations

from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured

from .app_settings import app_settings


@register()
def check_bounce_mailbox(app_configs, **kwargs):
    if not app_settings.BOUNCE_IMAP_URL:
        return []
    from .imap import parse_url

    try:
        parse_url(app_settings.BOUNCE_IMAP_URL)
    except ImproperlyConfigured as error:
        return [Error(str(error), id="speakout_outbox.E001")]
    return []
