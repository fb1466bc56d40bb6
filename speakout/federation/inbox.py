"""The inbox: a fifth front end of the one reply pipeline.

Every POST is read within limits (size, depth, content type), verified (signatures.py), and
checked against the blocks (domain and actor) before anything is stored. A reply (``Create`` of
a public or unlisted ``Note`` answering a published report or one of its replies) then goes
through the front door (``discussion.adapter.get_adapter()``) like a reply from the form: the
first-reply hold, the personal-data guard, pile-on brakes, spam, bans and rate limits all apply.
The actor's signature is the proof of who writes: the actor's replies are filed under one
commenter record, and bans and rate limits count per actor and per domain.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from bs4 import BeautifulSoup
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from speakout.discussion import services
from speakout.discussion.adapter import get_adapter
from speakout.discussion.clients import _keyed_hash
from speakout.discussion.models import Commenter, DiscussionSettings, Reply, Thread
from speakout.net import ratelimit

from . import delivery, jsonld, remote, signatures
from .app_settings import app_settings
from .models import (
    ActivityLog,
    FederatedReply,
    FederationSettings,
    Follower,
    NoteTombstone,
    PublishedArticle,
    RemoteActor,
    log,
)
from .urls_helpers import actor_url, is_web_url, netloc, registrable_domain


@dataclass
class Answer:
    status: int
    message: str = ""


ACCEPTED = Answer(202)
DELETED = Answer(202, "already deleted")


def receive(request: HttpRequest) -> Answer:
    config = FederationSettings.load()
    if not config.enabled:
        return Answer(404, "federation is off")
    if not jsonld.is_activity_json(request.content_type or ""):
        return _refused(request, 415, "send application/activity+json")
    length = request.META.get("CONTENT_LENGTH") or ""
    if length.isdigit() and int(length) > app_settings.MAX_BODY_BYTES:
        return _refused(request, 413, "the activity is too large")
    body = request.read(app_settings.MAX_BODY_BYTES + 1)
    if len(body) > app_settings.MAX_BODY_BYTES:
        return _refused(request, 413, "the activity is too large")
    try:
        activity = jsonld.parse(body, max_depth=app_settings.MAX_JSON_DEPTH)
    except jsonld.Malformed as error:
        return _refused(request, 400, str(error))
    claimed = jsonld.ref(activity.get("actor"))
    kind = _logged_type(activity)
    Outcome = ActivityLog.Outcome
    if claimed and config.is_blocked(claimed):
        return _refused(request, 403, "blocked", claimed, kind, Outcome.BLOCKED)
    try:
        actor = signatures.verify(signatures.incoming(request, body))
    except signatures.SignatureError as error:
        return _refused(request, 401, str(error), claimed, kind, Outcome.SIGNATURE)
    if config.is_blocked(actor.url):
        return _refused(request, 403, "blocked", actor.url, kind, Outcome.BLOCKED)
    if claimed != actor.url:
        return _refused(request, 401, "the activity's actor is not the signer", actor.url, kind, Outcome.SIGNATURE)
    activity_id = jsonld.ref(activity)
    if activity_id and netloc(activity_id) != netloc(actor.url):
        return _refused(request, 400, "the activity's id is on another host", actor.url, kind)
    handler = HANDLERS.get(next(iter(sorted(jsonld.types(activity) & set(HANDLERS))), ""), _ignore)
    answer = handler(config, actor, activity)
    # The answer's message says why, never what the activity said.
    log(
        ActivityLog.Kind.INBOX,
        activity_id or actor.url,
        answer.status < 300,
        answer.message,
        outcome=Outcome.OK if answer.status < 300 else Outcome.REFUSED,
        status=answer.status,
        activity_type=kind,
        host=actor.domain,
    )
    return answer


def _logged_type(activity: dict[str, Any]) -> str:
    """ "Create(Note)": the activity's type and its object's."""
    kind = ",".join(sorted(jsonld.types(activity)))
    inner = activity.get("object")
    inner_kind = ",".join(sorted(jsonld.types(inner))) if isinstance(inner, dict) else ""
    return f"{kind}({inner_kind})" if inner_kind else kind


def _refused(
    request: HttpRequest,
    status: int,
    message: str,
    who: str = "",
    kind: str = "",
    outcome: str = ActivityLog.Outcome.REFUSED,
) -> Answer:
    if _log_refusal(request, who):
        log(ActivityLog.Kind.INBOX, who or request.path, False, message, outcome=outcome, status=status,
            activity_type=kind)  # fmt: skip
    return Answer(status, message)


def _log_refusal(request: HttpRequest, who: str) -> bool:
    """Whether this refusal gets its own log row: the first few per sender and hour do (an admin
    wants their reasons); past that one row per sender and hour counts the rest, so junk POSTs
    cannot grow the log without bound. The sender is counted as the claimed actor's registrable
    domain and as the client's address: the claim is the sender's word, and a new one at each
    request (or a new name under one wildcard domain) must not buy a new allowance."""
    from speakout.net.addresses import client_ip

    host = registrable_domain(who) if who else ""
    limit = app_settings.REFUSED_LOGGED_PER_HOST_PER_HOUR
    over: tuple[str, str, int] | None = None
    for sender in list(dict.fromkeys(part for part in (host, client_ip(request)) if part)) or [""]:
        key = ratelimit.window_key(f"federation:refused:{sender}", 3600)
        count = ratelimit.hit(key, 7200)
        if over is None and limit > 0 and count > limit:
            over = (sender, key, count)
    if over is None:
        return True
    sender, key, count = over
    more = count - limit
    detail = f"{more} more refused request(s) from {sender} this hour, not logged one by one"
    summary_key = key + ":row"
    row = cache.get(summary_key)
    if row is None or not ActivityLog.objects.filter(pk=row).update(detail=detail):
        created = ActivityLog.objects.create(
            kind=ActivityLog.Kind.INBOX, url=request.path, host=host[:255], ok=False,
            outcome=ActivityLog.Outcome.REFUSED, detail=detail,
        )  # fmt: skip
        cache.set(summary_key, created.pk, 7200)
    return False


def _ignore(config: FederationSettings, actor: RemoteActor, activity: dict[str, Any]) -> Answer:
    return Answer(202, "ignored")


# Following ------------------------------------------------------------------------------------


def _follow(config: FederationSettings, actor: RemoteActor, activity: dict[str, Any]) -> Answer:
    if jsonld.ref(activity.get("object")) != actor_url():
        return Answer(202, "a follow of someone else")
    if not actor.own_inbox:
        return Answer(400, "the actor has no inbox on its own domain")
    with transaction.atomic():
        follower, _created = Follower.objects.get_or_create(
            actor=actor, defaults={"follow_id": jsonld.ref(activity), "state": Follower.State.PENDING}
        )
        follower.follow_id = jsonld.ref(activity) or follower.follow_id
        follower.save(update_fields=["follow_id"])
        if config.approve_followers and follower.state != Follower.State.ACCEPTED:
            return Answer(202, "held for approval")
        accept(follower, activity)
    return ACCEPTED


def accept(follower: Follower, follow: dict[str, Any] | None = None) -> None:
    """Tell the follower they follow the site now (a moderator's approval calls this too)."""
    follower.state = Follower.State.ACCEPTED
    follower.save(update_fields=["state"])
    delivery.answer_follow(follower, "Accept", follow)


def _undo(config: FederationSettings, actor: RemoteActor, activity: dict[str, Any]) -> Answer:
    undone = activity.get("object")
    if "Follow" in jsonld.types(undone) or jsonld.ref(undone) == getattr(
        Follower.objects.filter(actor=actor).first(), "follow_id", None
    ):
        Follower.objects.filter(actor=actor).delete()
        return ACCEPTED
    return Answer(202, "nothing to undo")


def _move(config: FederationSettings, actor: RemoteActor, activity: dict[str, Any]) -> Answer:
    """A follower moved to another account: the follow moves with them, once the new account
    (fetched fresh, never taken from the activity) names the old one in ``alsoKnownAs``."""
    if jsonld.ref(activity.get("object")) != actor.url:
        return Answer(400, "an account can only move itself")
    follower = Follower.objects.filter(actor=actor).first()
    if follower is None:
        return Answer(202, "not a follower")
    target = jsonld.ref(activity.get("target")).split("#", 1)[0]
    if not target or target == actor.url or target == actor_url():
        return Answer(400, "no new account")
    if config.is_blocked(target):
        return Answer(403, "the new account is blocked")
    try:
        document = remote.fetch_document(target)
        moved = remote.store_actor(target, document)
    except remote.RemoteError as error:
        return Answer(400, f"the new account could not be read: {error}"[:300])
    if actor.url not in jsonld.refs(document.get("alsoKnownAs")):
        return Answer(403, "the new account does not name the old one")
    if not moved.own_inbox:
        return Answer(400, "the new account has no inbox on its own domain")
    with transaction.atomic():
        RemoteActor.objects.filter(pk=actor.pk).update(moved_to=moved.url)
        if Follower.objects.filter(actor=moved).exists():
            follower.delete()  # the new account follows already: keep that follow
        else:
            follower.actor = moved
            follower.save(update_fields=["actor"])
    return Answer(202, "moved")


# Replies --------------------------------------------------------------------------------------


def note_text(html: str) -> str:
    """A Note's HTML as the reply form's text: paragraphs and line breaks kept, links (mentions,
    hashtags) as plain Markdown links, everything else as text."""
    soup = BeautifulSoup(html or "", "html.parser")
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for link in soup.find_all("a"):
        href = link.get("href") or ""
        label = link.get_text().replace("[", "(").replace("]", ")")
        if isinstance(href, str) and is_web_url(href):
            link.replace_with(f"[{label}]({href.replace(')', '%29')})")
        else:
            link.replace_with(label)
    paragraphs = [block.get_text() for block in soup.find_all("p")] or [soup.get_text()]
    return "\n\n".join(part.strip() for part in paragraphs if part.strip())


def _target(in_reply_to: str) -> tuple[Thread, Reply | None] | None:
    """The public thread (and reply) a Note answers, or None. A report that is not published, not
    public or unknown is the same None, so nothing tells them apart."""
    article = PublishedArticle.objects.filter(object_id=in_reply_to, deleted=False).first()
    if article is not None:
        thread = Thread.objects.filter(key=article.thread_key, is_public=True).first()
        return (thread, None) if thread is not None else None
    known = FederatedReply.objects.filter(object_id=in_reply_to).select_related("reply").first()
    parent = known.reply if known is not None else None
    if parent is None or parent.status != Reply.Status.APPROVED:
        return None
    thread = Thread.objects.filter(pk=parent.thread_id, is_public=True).first()
    if thread is None or not PublishedArticle.objects.filter(thread_key=thread.key, deleted=False).exists():
        return None
    return thread, parent


def actor_hashes(actor: RemoteActor) -> tuple[str, str]:
    """The keys bans and rate limits count under: the actor's, then its server's (its registrable
    domain, so every name of a wildcard domain is one server)."""
    return _keyed_hash(actor.url, "federation-actor"), _keyed_hash(registrable_domain(actor.url), "federation-domain")


def _author(actor: RemoteActor) -> services.Author:
    hashes = actor_hashes(actor)
    commenter = actor.commenter or Commenter(display_name=actor.name or actor.username, website=actor.profile_url)
    return services.Author(
        guest_token=_keyed_hash(actor.url, "federation-guest"),
        client_hash=hashes[0],
        client_hashes=hashes,
        commenter=commenter,
    )


def _note(activity: dict[str, Any], actor: RemoteActor) -> dict[str, Any] | Answer:
    note = activity.get("object")
    if not isinstance(note, dict) or "Note" not in jsonld.types(note):
        return Answer(202, "not a note")
    note_id = jsonld.ref(note)
    if not note_id or netloc(note_id) != netloc(actor.url):
        return Answer(400, "the note's id is on another host")
    attributed = jsonld.refs(note.get("attributedTo"))
    if attributed and attributed != [actor.url]:
        return Answer(400, "the note is attributed to someone else")
    if _under_another_account(note_id, actor):
        return Answer(403, "the note's id is under another account's address")
    return note


def _under_another_account(note_id: str, actor: RemoteActor) -> bool:
    """Whether ``note_id`` lies under the address of another account kept here and not under the
    sender's own (``/users/bob/statuses/N``, where Mastodon puts Bob's Notes): another account of
    Bob's server could otherwise take the id of a Note Bob will write, and his would be refused.
    The server's root is no account's address here, so a site actor at ``https://host/`` does
    not own every Note on its host."""
    try:
        parts = urlsplit(note_id)
    except ValueError:
        return False
    segments = parts.path.split("/")
    above = [f"{parts.scheme}://{parts.netloc}{'/'.join(segments[:end])}" for end in range(2, len(segments))]
    if not above or actor.url in above:
        return False
    return RemoteActor.objects.filter(url__in=above).exclude(pk=actor.pk).exists()


def _as_its_server_serves_it(note_id: str, actor: RemoteActor) -> Answer | None:
    """None if the sender may keep ``note_id``; else why not. An id under the sender's own address
    is theirs (``_under_another_account`` keeps others off it). One under no account's address
    (Misskey's ``/notes/ID``, Pleroma's ``/objects/UUID``) could be claimed by another account of
    the same server before its author writes it: the Note is fetched from its id (a signed GET)
    and kept only if its server names the sender as its author."""
    if note_id.startswith(actor.url.rstrip("/") + "/"):
        return None
    try:
        served = remote.fetch_document(note_id)
    except remote.RemoteError as error:
        # Not served (yet), or the server is down: the sender tries again later.
        return Answer(503, f"the note could not be fetched from its id: {error}"[:300])
    if (
        jsonld.ref(served) != note_id
        or "Note" not in jsonld.types(served)
        or jsonld.refs(served.get("attributedTo")) != [actor.url]
    ):
        return Answer(403, "its server does not serve this note as the sender's")
    return None


# A Note id is one account's: another account's Create or Update of it is refused (not "already
# received"), so the log shows the attempt and the sender is told.
KEPT_FOR_ANOTHER = Answer(409, "the note's id is kept for another account")


def _create(config: FederationSettings, actor: RemoteActor, activity: dict[str, Any]) -> Answer:
    note = _note(activity, actor)
    if isinstance(note, Answer):
        return note
    note_id = jsonld.ref(note)
    kept = FederatedReply.objects.filter(object_id=note_id).first()
    if kept is not None:
        return Answer(202, "already received") if kept.actor_id == actor.pk else KEPT_FOR_ANOTHER
    # Deleted by its author: answered as taken, so that the sender stops retrying it.
    if NoteTombstone.is_deleted(actor.url, note_id):
        return DELETED
    target = _target(jsonld.ref(note.get("inReplyTo")))
    if target is None:
        return Answer(202, "not a reply to a published report")
    if not jsonld.is_public(note) or not jsonld.is_public(activity):
        return Answer(403, "only public and unlisted replies are taken")
    if not ratelimit.allow(
        f"speakout:federation:domain:{registrable_domain(actor.url)}", app_settings.REPLIES_PER_DOMAIN_PER_HOUR, 3600
    ):
        return Answer(429, "too many replies from this server")
    # After the allowance: each fetch holds a web thread up to its timeout, so a server cannot
    # make the site fetch from it more often than it may reply.
    unproven = _as_its_server_serves_it(note_id, actor)
    if unproven is not None:
        return unproven
    thread, parent = target
    remote.fetch_avatar(actor)
    adapter = get_adapter()
    name = (actor.name or actor.username or actor.domain)[:60]
    payload = {
        "parent": parent.pk if parent else "",
        # The typed name only, checked like any other. The handle is shown beside it from the
        # verified actor (identities.py), never through typed text.
        "name": name,
        "website": _website(actor.profile_url),
        "body": note_text(jsonld.text(note.get("content")) or jsonld.text(note.get("contentMap"))),
        "submission_id": "ap-" + hashlib.sha256(note_id.encode()).hexdigest()[:60],
    }
    rules = copy.copy(DiscussionSettings.load())
    rules.require_name_email = False  # a Fediverse reply has a verified actor, never an address
    result = adapter.submit(
        thread, adapter.form_data(thread.key, payload), _author(actor), rules=rules, check_form_token=False
    )
    if not result.ok:
        if result.code == "already_sent":
            return KEPT_FOR_ANOTHER  # the same id kept meanwhile, for another account
        message = adapter.plain_error(result)
        return Answer(429 if result.code == "rate_limit" else 403, message[:300])
    reply = result.stored
    with transaction.atomic():
        FederatedReply.objects.get_or_create(
            reply=reply,
            defaults={
                "object_id": note_id,
                "actor": actor,
                "remote_updated_at": _time(note.get("updated")) or _time(note.get("published")),
            },
        )
        reply.thread.bump_version()  # cached pages show the handle and avatar kept just now
        if actor.commenter_id is None and reply.commenter_id is not None:
            RemoteActor.objects.filter(pk=actor.pk).update(commenter_id=reply.commenter_id)
    # Asked again once the reply is kept: a Delete that ran meanwhile kept its tombstone before it
    # looked for the reply, so one of the two sees the other.
    if NoteTombstone.is_deleted(actor.url, note_id) and not _held_as_evidence(reply):
        services.delete_permanently(reply, reason="Deleted by its Fediverse author.")
        return DELETED
    return Answer(202, result.outcome)


def _website(url: str) -> str:
    """The remote profile as the reply's link, where the form takes it (a public address)."""
    from django.core.exceptions import ValidationError

    from speakout.discussion.forms import validate_website

    try:
        return validate_website(url)
    except ValidationError:
        return ""


def _held_as_evidence(reply: Reply) -> bool:
    return reply.evidence_holds.filter(released_at__isnull=True).exists()


def _time(value: Any) -> datetime | None:
    """An xsd:dateTime (``updated``, ``published``) as an aware datetime; None when it is missing,
    not a time, or has no zone (a time without one names no instant to compare)."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("@value")
    if not isinstance(value, str):
        return None
    try:
        found = parse_datetime(value.strip())
    except ValueError:
        return None
    return found if found is not None and found.tzinfo is not None else None


def _newer_than_kept(note: dict[str, Any]) -> tuple[Q, datetime | F]:
    """Which kept versions this version of a Note is newer than (a condition on the FederatedReply
    row), and the time to keep once it is taken.

    Deliveries come out of order and are retried for days, so an edit is taken only if its
    ``updated`` is later than the kept time (the last edit's, else the Note's own). An edit without
    a usable ``updated`` is not known to be newer: it is taken only while no dated edit is kept
    (the kept time is none or the Note's ``published``), as a server that never dates its edits
    would need; among such edits the last to arrive wins, as nothing orders them."""
    unknown = Q(remote_updated_at__isnull=True)
    stamp = _time(note.get("updated"))
    if stamp is not None:
        return unknown | Q(remote_updated_at__lt=stamp), stamp
    published = _time(note.get("published"))
    original = unknown | Q(remote_updated_at__lte=published) if published is not None else unknown
    return original, F("remote_updated_at")


def _update(config: FederationSettings, actor: RemoteActor, activity: dict[str, Any]) -> Answer:
    obj = activity.get("object")
    if jsonld.types(obj) & remote.ACTOR_TYPES:
        # Never taken from the activity: the profile is fetched fresh, so order does not matter.
        if jsonld.ref(obj) == actor.url:
            remote.actor(actor.url, refresh=True)
        return ACCEPTED
    note = _note(activity, actor)
    if isinstance(note, Answer):
        return note
    known = FederatedReply.objects.filter(object_id=jsonld.ref(note), actor=actor).select_related("reply").first()
    if known is None:
        return _update_as_create(config, actor, activity, note)
    reply = known.reply
    if _held_as_evidence(reply):
        return Answer(202, "held as evidence: kept as it was")
    condition, kept_time = _newer_than_kept(note)
    rows = FederatedReply.objects.filter(condition, pk=known.pk)
    stale = Answer(202, "not newer than the version kept")
    if not rows.exists():
        return stale

    def newer() -> bool:
        # Asked again in the transaction that writes, as one conditional UPDATE: on PostgreSQL it
        # waits for a concurrent delivery's row lock and checks what that one kept; SQLite writes
        # one at a time.
        return rows.update(remote_updated_at=kept_time) == 1

    if not jsonld.is_public(note):
        with transaction.atomic():
            if not newer():
                return stale
            services.delete_permanently(reply, reason="The Fediverse author made it private.")
        return ACCEPTED
    body = note_text(jsonld.text(note.get("content")) or jsonld.text(note.get("contentMap")))
    return _edit(reply, body, newer) or stale


def _update_as_create(
    config: FederationSettings, actor: RemoteActor, activity: dict[str, Any], note: dict[str, Any]
) -> Answer:
    """An edit of a Note not kept here. Deliveries are retried out of order, so it can arrive
    before its Create: it is then taken as the Note, through every check of a Create, with its own
    text and ``updated`` time, and the Create that comes later is an older version that changes
    nothing. Only a Note published within the tombstones' memory is taken: a deleted one (by its
    author, a moderator or made private) is remembered that long, so no edit brings it back."""
    published = _time(note.get("published"))
    oldest = timezone.now() - timedelta(days=app_settings.TOMBSTONE_RETENTION_DAYS)
    if published is None or published < oldest:
        return Answer(202, "unknown note")
    return _create(config, actor, activity)


# Checks an edit cannot fail or need not pass again: they are about the act of posting.
_NOT_RECHECKED = ("RateLimitCheck", "DuplicateCheck", "TimeTrapCheck", "HoneypotCheck", "TrustCheck")


def _edit(reply: Reply, body: str, newer: Callable[[], bool]) -> Answer | None:
    """A remote edit, at any time (the remote server decides its own window), checked again: an
    edit that the pipeline would hold or refuse takes a published reply back to the queue. None
    when ``newer()``, asked in the transaction that writes, says a newer version is kept."""
    from django.utils.module_loading import import_string

    from speakout.discussion import signals as discussion_signals
    from speakout.discussion.app_settings import app_settings as discussion_settings
    from speakout.discussion.forms import EditReplyForm
    from speakout.discussion.policy import Decision, Submission, evaluate
    from speakout.discussion.rendering import render_markdown

    form = EditReplyForm({"body": body})
    if not form.is_valid():
        return Answer(400, "the edited text is not valid")
    body = form.cleaned_data["body"]
    checks = [import_string(path)() for path in discussion_settings.POLICY_CHECKS if not path.endswith(_NOT_RECHECKED)]
    submission = Submission(
        thread=reply.thread, body=body, name=reply.author_name, email="", website=reply.author_website,
        client_hash=reply.client_hash, rules=DiscussionSettings.load(), now=timezone.now(), parent=reply.parent,
        commenter=reply.commenter, check_form_token=False, extra={"confirm": set()},
    )  # fmt: skip
    verdict = evaluate(submission, checks)
    with transaction.atomic():
        if not newer():
            return None
        reply.body = body
        reply.body_html = render_markdown(body)
        reply.edited_at = timezone.now()
        reply.save(update_fields=["body", "body_html", "edited_at"])
        reply.thread.bump_version()
        discussion_signals.reply_edited.send(sender=Reply, reply=reply)
    if verdict.decision != Decision.ACCEPT and reply.status == Reply.Status.APPROVED:
        services.set_status(
            reply, Reply.Status.PENDING, reason=("Edited: " + verdict.reasons)[:500], action="remote_edit"
        )
        return Answer(202, "held after the edit")
    return Answer(202, "edited")


def _delete(config: FederationSettings, actor: RemoteActor, activity: dict[str, Any]) -> Answer:
    object_id = jsonld.ref(activity.get("object"))
    if object_id == actor.url:
        return ACCEPTED  # the account is gone; its replies stay until a moderator decides
    if object_id and netloc(object_id) == netloc(actor.url):
        # Kept first, known note or not (a Delete can overtake its Create), so that a Create sent
        # before it or retried after it is not taken.
        NoteTombstone.record(actor.url, object_id)
    known = FederatedReply.objects.filter(object_id=object_id, actor=actor).select_related("reply").first()
    if known is None:
        return Answer(202, "unknown note")
    if _held_as_evidence(known.reply):
        return Answer(202, "held as evidence: kept")
    services.delete_permanently(known.reply, reason="Deleted by its Fediverse author.")
    return ACCEPTED


HANDLERS = {
    "Follow": _follow,
    "Undo": _undo,
    "Move": _move,
    "Create": _create,
    "Update": _update,
    "Delete": _delete,
}
