"""The ActivityStreams documents Speakout serves: the site actor, a report as an ``Article``,
the activities about them, and the collections (outbox, followers)."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

import nh3
from django.conf import settings
from django.utils import timezone
from django.utils.html import escape

from . import jsonld, keys
from .models import FederationSettings, PublishedArticle
from .urls_helpers import absolute, actor_url, address, followers_url, host

CONTEXT: list[Any] = [
    jsonld.AS_CONTEXT,
    jsonld.SECURITY_CONTEXT,
    {
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "sensitive": "as:sensitive",
        "alsoKnownAs": {"@id": "as:alsoKnownAs", "@type": "@id"},
        "movedTo": {"@id": "as:movedTo", "@type": "@id"},
        "toot": "http://joinmastodon.org/ns#",
        "discoverable": "toot:discoverable",
    },
]
ARTICLE_TAGS = {
    "p", "a", "br", "strong", "em", "b", "i", "ul", "ol", "li", "blockquote", "h2", "h3", "h4",
    "pre", "code", "figure", "figcaption", "img",
}  # fmt: skip
PAGE_SIZE = 20


def site_name(config: FederationSettings) -> str:
    if config.display_name:
        return config.display_name
    from wagtail.models import Site

    site = Site.objects.filter(is_default_site=True).first()
    return (site.site_name if site and site.site_name else "") or host()


def handle(config: FederationSettings | None = None) -> str:
    config = config or FederationSettings.load()
    return f"@{config.username}@{urlsplit(settings.BASE_URL).hostname}"


def actor(config: FederationSettings | None = None) -> dict[str, Any]:
    config = config or FederationSettings.load()
    url = actor_url()
    key = keys.current()
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "id": url,
        "type": "Organization",
        "preferredUsername": config.username,
        "name": site_name(config),
        "summary": nh3.clean(config.summary.replace("\n", "<br>"), tags={"br"}),
        "url": absolute("/"),
        "inbox": address("inbox"),
        "outbox": address("outbox"),
        "followers": followers_url(),
        "endpoints": {"sharedInbox": address("inbox")},
        "manuallyApprovesFollowers": config.approve_followers,
        "discoverable": True,
        "publicKey": {"id": url + "#main-key", "owner": url, "publicKeyPem": key.public_pem},
    }
    also = [line.strip() for line in config.also_known_as.splitlines() if line.strip()]
    if also:
        document["alsoKnownAs"] = also
    return document


def _absolute_urls(element: str, attribute: str, value: str) -> str | None:
    if attribute in ("href", "src") and value.startswith("/") and not value.startswith("//"):
        return absolute(value)
    return value


def article_content(page: Any) -> str:
    parts = []
    if getattr(page, "standfirst", ""):
        parts.append(f"<p><strong>{escape(page.standfirst)}</strong></p>")
    parts.append(str(page.body.render_as_block()))
    return clean_html("".join(parts))


def clean_html(html: str) -> str:
    """HTML as the Fediverse gets it: the tags every server shows, addresses on this site made
    absolute."""
    return nh3.clean(
        html,
        tags=ARTICLE_TAGS,
        attributes={"a": {"href"}, "img": {"src", "alt"}},
        attribute_filter=_absolute_urls,
        url_schemes={"http", "https", "mailto"},
    )


def article_id(page: Any) -> str:
    return absolute(urlsplit(page.full_url or page.url or "").path or f"/?page={page.pk}")


def language(page: Any) -> str:
    locale = getattr(page, "locale", None)
    return locale.language_code if locale is not None else settings.LANGUAGE_CODE


def versions(page: Any, *, excluding: int | None = None, public: bool = True) -> list[Any]:
    """The report in every language (itself included), only those public unless ``public`` is
    False, first published first: the first published is the original, the one followers get."""
    from speakout.publishing.discussion import report_is_public

    key = getattr(page, "translation_key", None)
    if key is None:
        found = [page]
    else:
        query = type(page).objects.filter(translation_key=key).exclude(pk=excluding).select_related("locale")
        found = list(query.order_by("first_published_at", "pk"))
    return [version for version in found if not public or report_is_public(version)]


def _language_maps(document: dict[str, Any], page: Any) -> None:
    """``contentMap``, ``nameMap`` and ``summaryMap``: the page's own language first (Mastodon
    shows ``content`` and takes its language from the first key), then its public translations,
    so one Article carries every language and followers never see the report twice."""
    own = language(page)
    content, name, summary = {own: document["content"]}, {own: document["name"]}, {own: document["summary"]}
    for other in versions(page):
        code = language(other)
        if code not in content:
            content[code] = article_content(other)
            name[code] = other.title
            warning = (getattr(other, "content_warning", "") or "").strip()
            summary[code] = escape(warning or getattr(other, "standfirst", "") or "")
    document.update(contentMap=content, nameMap=name)
    if any(summary.values()):
        document["summaryMap"] = summary


def article(page: Any, published: PublishedArticle | None = None) -> dict[str, Any]:
    url = published.object_id if published else article_id(page)
    # The editor's content warning: Mastodon and others show the summary and fold the rest.
    warning = (getattr(page, "content_warning", "") or "").strip()
    document: dict[str, Any] = {
        "id": url,
        "type": "Article",
        "attributedTo": actor_url(),
        "name": page.title,
        "summary": escape(warning or getattr(page, "standfirst", "") or ""),
        "content": article_content(page),
        "url": url,
        "published": (page.first_published_at or timezone.now()).isoformat(),
        "to": [jsonld.PUBLIC],
        "cc": [followers_url()],
        "sensitive": bool(warning),
    }
    _language_maps(document, page)
    if page.last_published_at and page.first_published_at and page.last_published_at > page.first_published_at:
        document["updated"] = page.last_published_at.isoformat()
    lead = getattr(page, "lead_image", None)
    if lead:
        image, alt = lead
        rendition = image.get_rendition("max-1200x1200")
        document["attachment"] = [
            {"type": "Image", "mediaType": rendition.file_mime_type or "image/jpeg", "url": absolute(rendition.url)
             if rendition.url.startswith("/") else rendition.url, "name": alt or ""}
        ]  # fmt: skip
    return document


def activity(kind: str, obj: Any, *, to: list[str] | None = None, cc: list[str] | None = None) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "id": address("activity", kind.lower(), uuid.uuid4().hex),
        "type": kind,
        "actor": actor_url(),
        "object": obj,
    }
    if to is not None:
        document["to"] = to
    if cc is not None:
        document["cc"] = cc
    return document


def tombstone(object_id: str) -> dict[str, Any]:
    return {"id": object_id, "type": "Tombstone"}


def collection(url: str, items: list[Any], total: int, page: int | None, *, paged: bool = True) -> dict[str, Any]:
    """An OrderedCollection, or (``page`` given) one page of it; without ``paged``, its count only."""
    if page is None:
        document = {"@context": jsonld.AS_CONTEXT, "id": url, "type": "OrderedCollection", "totalItems": total}
        if paged:
            document["first"] = f"{url}?page=1"
        return document
    document: dict[str, Any] = {
        "@context": jsonld.AS_CONTEXT,
        "id": f"{url}?page={page}",
        "type": "OrderedCollectionPage",
        "partOf": url,
        "totalItems": total,
        "orderedItems": items,
    }
    if page * PAGE_SIZE < total:
        document["next"] = f"{url}?page={page + 1}"
    if page > 1:
        document["prev"] = f"{url}?page={page - 1}"
    return document
