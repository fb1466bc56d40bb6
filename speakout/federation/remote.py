"""Actors and keys on other servers, fetched through the SSRF-safe fetcher and kept a while.

Every fetch is signed by the site actor (servers in "authorized fetch" mode answer nothing
else), asks for ActivityStreams (Fedify answers 406 without it), and is logged with its outcome.
A fetched document must carry the id it was fetched by (on the same host), so one server cannot
speak for another, and an actor's inboxes must be on its own registrable domain, so it cannot
make the site post to another server.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from speakout.net.fetch import FetchRefused, fetch

from . import jsonld
from .app_settings import app_settings
from .models import ActivityLog, RemoteActor, log
from .urls_helpers import is_web_url, netloc, registrable_domain, server_name

ACCEPT = f"{jsonld.CONTENT_TYPE}, {jsonld.LD_PROFILE}"
ACTOR_TYPES = {"Person", "Service", "Application", "Group", "Organization"}
MAX_DOCUMENT_BYTES = 512 * 1024
MAX_AVATAR_BYTES = 1024 * 1024
AVATAR_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}


class RemoteError(Exception):
    """A remote document could not be had; the message says why."""


def fetch_document(url: str) -> dict[str, Any]:
    from .signatures import sign

    try:
        answer = fetch(url, headers={"Accept": ACCEPT}, sign=sign, max_bytes=MAX_DOCUMENT_BYTES, timeout=10.0)
    except FetchRefused as error:
        log(ActivityLog.Kind.FETCH, url, False, str(error))
        raise RemoteError(str(error)) from error
    if answer.status != 200 or not jsonld.is_activity_json(answer.content_type):
        detail = f"answered {answer.status} {answer.content_type[:80]}"
        outcome = ActivityLog.Outcome.STATUS if answer.status != 200 else ActivityLog.Outcome.ERROR
        log(ActivityLog.Kind.FETCH, url, False, detail, outcome=outcome, status=answer.status)
        raise RemoteError(detail)
    try:
        document = jsonld.parse(answer.body, max_depth=app_settings.MAX_JSON_DEPTH)
    except jsonld.Malformed as error:
        log(ActivityLog.Kind.FETCH, url, False, str(error), status=answer.status)
        raise RemoteError(str(error)) from error
    found = jsonld.ref(document)
    if netloc(found) != netloc(answer.url):
        log(ActivityLog.Kind.FETCH, url, False, "the document names another host", status=answer.status)
        raise RemoteError("the document's id is on another host")
    log(
        ActivityLog.Kind.FETCH,
        url,
        True,
        "",
        status=answer.status,
        activity_type=",".join(sorted(jsonld.types(document))),
    )
    return document


def _fresh(actor: RemoteActor) -> bool:
    return actor.fetched_at > timezone.now() - timedelta(seconds=app_settings.KEY_CACHE_SECONDS)


def _http_url(value: str) -> str:
    return value if is_web_url(value) else ""


def store_actor(url: str, document: dict[str, Any]) -> RemoteActor:
    if not (jsonld.types(document) & ACTOR_TYPES):
        raise RemoteError("the document is not an actor")
    actor_id = jsonld.ref(document)
    if actor_id != url.split("#", 1)[0]:
        raise RemoteError("the actor's id is not the address it was fetched from")
    # Only a key on the actor's own server: one naming another server's keyId would stand in for
    # that key when it is looked up, and its owner's signatures would fail.
    keys = [
        key
        for key in jsonld.as_list(document.get("publicKey"))
        if isinstance(key, dict)
        and jsonld.ref(key.get("owner")) in ("", actor_id)
        and netloc(jsonld.ref(key)) == netloc(actor_id)
    ]
    key = keys[0] if keys else None
    endpoints = document.get("endpoints") if isinstance(document.get("endpoints"), dict) else {}
    inbox = _http_url(jsonld.ref(document.get("inbox")))
    shared_inbox = _http_url(jsonld.ref(endpoints.get("sharedInbox")))
    # The site POSTs signed activities to these (the Accept of a follow, reports, replies): named
    # on another registrable domain, they would aim it at a server the actor's owner does not run.
    domain = registrable_domain(actor_id)
    if any(address and registrable_domain(address) != domain for address in (inbox, shared_inbox)):
        log(ActivityLog.Kind.FETCH, url, False, "the actor's inbox is on another domain")
        raise RemoteError("the actor's inbox is on another domain")
    icon = document.get("icon")
    icon_url = jsonld.ref(icon.get("url")) if isinstance(icon, dict) else jsonld.ref(icon)
    fields = {
        "domain": server_name(actor_id),
        "inbox": inbox,
        "shared_inbox": shared_inbox,
        "username": jsonld.text(document.get("preferredUsername"))[:200],
        "name": jsonld.text(document.get("name"))[:200],
        "profile_url": _http_url(jsonld.ref(document.get("url")) or actor_id),
        "key_id": jsonld.ref(key) if key else "",
        "public_key_pem": jsonld.text(key.get("publicKeyPem")) if key else "",
        "icon_url": _http_url(icon_url),
        "moved_to": _http_url(jsonld.ref(document.get("movedTo"))),
        "fetched_at": timezone.now(),
    }
    actor, _created = RemoteActor.objects.update_or_create(url=actor_id, defaults=fields)
    return actor


def actor(url: str, *, refresh: bool = False) -> RemoteActor:
    """The actor at ``url``, fetched if not kept or stale (or ``refresh``)."""
    url = url.split("#", 1)[0]
    kept = RemoteActor.objects.filter(url=url).first()
    if kept is not None and not refresh and _fresh(kept):
        return kept
    return store_actor(url, fetch_document(url))


def kept_actor_for_key(key_id: str) -> RemoteActor | None:
    """The actor kept here whose public key is ``key_id``, if it is not stale; never fetches."""
    kept = RemoteActor.objects.filter(key_id=key_id).first()
    return kept if kept is not None and _fresh(kept) else None


def actor_for_key(key_id: str) -> RemoteActor:
    """The actor whose public key is ``key_id``, fetched fresh (``kept_actor_for_key`` never fetches)."""
    document = fetch_document(key_id.split("#", 1)[0])
    if jsonld.types(document) & ACTOR_TYPES:
        found = store_actor(jsonld.ref(document), document)
    else:
        # A key document: its owner is the actor, who must list this key as theirs.
        owner = jsonld.ref(document.get("owner"))
        if not owner or netloc(owner) != netloc(key_id):
            raise RemoteError("the key has no owner on its own host")
        found = actor(owner, refresh=True)
    if found.key_id != key_id:
        raise RemoteError("the actor does not list this key")
    return found


def fetch_avatar(remote_actor: RemoteActor) -> None:
    """Keep the actor's icon here, once, so pages never load it from its server."""
    if remote_actor.avatar or not remote_actor.icon_url:
        return
    try:
        answer = fetch(remote_actor.icon_url, headers={"Accept": "image/*"}, max_bytes=MAX_AVATAR_BYTES, timeout=10.0)
    except FetchRefused as error:
        log(ActivityLog.Kind.FETCH, remote_actor.icon_url, False, str(error))
        return
    kind = answer.content_type.split(";", 1)[0].strip().lower()
    if answer.status != 200 or kind not in AVATAR_TYPES:
        detail = f"answered {answer.status} {kind[:60]}"
        log(ActivityLog.Kind.FETCH, remote_actor.icon_url, False, detail, outcome=ActivityLog.Outcome.STATUS,
            status=answer.status, activity_type="Image")  # fmt: skip
        return
    log(ActivityLog.Kind.FETCH, remote_actor.icon_url, True, "", status=answer.status, activity_type="Image")
    RemoteActor.objects.filter(pk=remote_actor.pk).update(avatar=answer.body, avatar_type=kind)
