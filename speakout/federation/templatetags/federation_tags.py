from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def activity_alternate(page: Any) -> str:
    """The report's ActivityStreams form, for servers that look pages up the way Mastodon does."""
    from ..models import FederationSettings, PublishedArticle

    if not FederationSettings.load().enabled:
        return ""
    published = PublishedArticle.objects.filter(page_id=page.pk, deleted=False).first()
    if published is None:
        return ""
    return format_html('<link rel="alternate" type="application/activity+json" href="{}">', published.object_id)


@register.inclusion_tag("federation/handle.html")
def fediverse_handle_line() -> dict[str, str]:
    """The line "Follow us from Mastodon: @reports@example.org" when federation is on (template
    ``federation/handle.html``)."""
    from ..documents import handle
    from ..models import FederationSettings

    config = FederationSettings.load()
    return {"handle": handle(config) if config.enabled else ""}
