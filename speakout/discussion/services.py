"""The discussion's one logic layer. The HTML views, the JSON API and importers all call these.

``submit_reply`` is the write path of DESIGN.md: validate, run the policy pipeline, render once,
store in one transaction, send signals. Its outcome is always one of published, held (visible to
its author) or rejected with field-specific errors; never a silent drop.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from speakout.pagecache import versions

from . import refusals, signals
from .app_settings import app_settings
from .avatars import avatar_for
from .clients import client_keys_cache_key, guest_key, guest_keys, likely_client_hashes
from .forms import STAFF_NAMES_KEY, ReplyForm, read_form_token
from .models import (
    PATH_SEGMENT_LENGTH,
    BannedClient,
    Commenter,
    DiscussionSettings,
    Flag,
    ModerationLogEntry,
    RemovedReply,
    Reply,
    Thread,
    holding,
    path_segment,
    thread_dependency,
)
from .policy import Check, Decision, PolicyRun, Submission, Verdict, load_checks
from .reading import wrote
from .rendering import render_markdown


class Outcome(enum.StrEnum):
    """What became of a submission (a string, so it serialises as is)."""

    PUBLISHED = "published"
    HELD = "held"
    REJECTED = "rejected"


PUBLISHED, HELD, REJECTED = Outcome.PUBLISHED, Outcome.HELD, Outcome.REJECTED


@dataclass
class SubmissionResult:
    outcome: Outcome
    reply: Reply | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)
    code: str = ""
    duplicate_of_retry: bool = False
    confirm: dict[str, str] = field(default_factory=dict)  # {check code: "send anyway" label}

    @property
    def ok(self) -> bool:
        return self.outcome in (PUBLISHED, HELD)

    @property
    def stored(self) -> Reply:
        """The reply of an accepted submission (``ok``)."""
        if self.reply is None:
            raise ValueError("A refused submission stored no reply.")
        return self.reply


@dataclass
class Author:
    """Who is writing: a signed-in user, or a guest with a private token (either may be absent)."""

    user: Any = None  # a signed-in user, or None
    guest_token: str = ""
    client_hash: str = ""
    client_hashes: tuple[str, ...] = ()  # under every key still kept (see clients.client_keys)
    # A record the front end has proven this writer owns (the Fediverse inbox: the signing
    # actor's); unsaved for a first reply, stored with it.
    commenter: Commenter | None = None
    # The guest token was made for this very request: no reply can be filed under it yet.
    new_guest_token: bool = False
    # Tokens of the writer's earlier replies that the front end proved (the Isso API's per-reply
    # edit cookies): the rate limits and the duplicate check count those replies as theirs.
    earlier_guest_tokens: tuple[str, ...] = ()

    @property
    def is_signed_in(self) -> bool:
        return self.user is not None and getattr(self.user, "is_authenticated", False)


def get_or_create_thread(key: str, url: str = "", title: str = "", is_public: bool = True) -> Thread:
    thread, created = Thread.objects.get_or_create(
        key=key, defaults={"url": url, "title": title[:500], "is_public": is_public}
    )
    changes: dict[str, Any] = {}
    if url and thread.url != url:
        changes["url"] = url
    if title and thread.title != title[:500]:
        changes["title"] = title[:500]
    if thread.is_public != is_public:
        changes["is_public"] = is_public
    if changes and not created:
        Thread.objects.filter(pk=thread.pk).update(version=F("version") + 1, **changes)
        thread.refresh_from_db()
    return thread


def _store_thread(thread: Thread) -> Thread:
    """Save a new thread, or take the one a concurrent first reply saved a moment ago."""
    try:
        with transaction.atomic():
            thread.save()
    except IntegrityError:
        return Thread.objects.get(key=thread.key)
    return thread


def _find_commenter(author: Author, name: str, email: str, website: str) -> Commenter | None:
    """The commenter a reply will be filed under, without writing anything: an existing row, or
    a new one not yet saved (``pk`` None) for a first-time writer. ``_store_commenter`` saves it
    (or links an existing one to the account) inside the reply's transaction.

    Only proof reaches an existing record (DESIGN.md "trust follows proof"): the account, the
    guest token of the record's earlier replies, or an address the account has verified. A
    typed address reaches nothing: a first-time writer's new record keeps it as a claim
    (``AddressProof.TYPED``), unless another record already holds it; then the new record is
    kept apart without it, so the claim earns none of that record's trust and never shows on
    its owner's "manage my replies" page (until the address's owner confirms mail about its
    reply: ``address_confirmed``)."""
    if author.is_signed_in:
        return _account_commenter(author.user, name)
    if author.commenter is not None:
        return author.commenter
    proven = None if author.new_guest_token else _guest_commenter(author.guest_token)
    if proven is not None:
        return proven
    if not email:
        return None
    # In any spelling of its case: "Manage my replies" finds records by the address that way.
    claimed = address_held(email)
    return Commenter(email="" if claimed else email, display_name=name, website=website)


def _guest_commenter(token: str) -> Commenter | None:
    """The record the guest token's earlier replies were filed under (their latest one). Not an
    account's: only signing in reaches that, as whoever holds the token may not be the person
    whose account took the record over (a planted reply, a shared browser)."""
    keys = guest_keys(token)
    if not keys:
        return None
    earlier = (
        Reply.objects.filter(
            guest_key__in=keys,
            commenter__isnull=False,
            commenter__user__isnull=True,
            commenter__forget_requested_at__isnull=True,
        )
        .select_related("commenter")
        .order_by("-pk")
        .first()
    )
    return earlier.commenter if earlier is not None else None


def verified_addresses(user: Any) -> list[str]:
    """The addresses an account has proved it owns: allauth's verified ones when allauth is
    installed; otherwise the account's own address (accounts then come from staff)."""
    from django.apps import apps

    if not getattr(user, "is_authenticated", False):
        return []
    if apps.is_installed("allauth.account"):
        from allauth.account.models import EmailAddress

        return list(EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True))
    return [user.email] if getattr(user, "email", "") else []


def _account_commenter(user: Any, name: str) -> Commenter:
    """The account's record; else the record of an address it verified whose address was proven
    too (imported, or confirmed by a mailed link), linked to it now: how someone's earlier
    replies become theirs; else a new one holding a verified address.

    Both proofs are needed: a guest's typed address proves nothing about who wrote under it, so
    that record is never linked (its ban, trust and replies would become the owner's) and does
    not keep the owner's record from the address. An address the account has not verified (a
    login provider that does not check them) reaches no record."""
    commenter = Commenter.objects.filter(user=user).first()
    if commenter is not None:
        return commenter
    addresses = [address.strip() for address in verified_addresses(user) if address.strip()]
    query = Q(pk__in=[])
    for address in addresses:
        query |= holding(address)
    holders = list(Commenter.objects.filter(query).exclude(address_proof=Commenter.AddressProof.TYPED))
    for holder in holders:
        if holder.user_id is None and holder.forget_requested_at is None:
            holder.user = user
            holder._speakout_link_user = True  # type: ignore[attr-defined]
            return holder
    held = {holder.email.lower() for holder in holders}
    free = next((address for address in addresses if address.lower() not in held), "")
    return Commenter(
        user=user,
        email=free,
        address_proof=Commenter.AddressProof.ACCOUNT if free else Commenter.AddressProof.TYPED,
        display_name=name,
    )


def address_confirmed(reply: Reply, email: str) -> bool:
    """The owner of ``email`` confirmed a link mailed to it about ``reply`` ("mail about your
    reply"): the address its record claimed is proven, so an account that verifies the address
    later takes the record over. Not when another proven record holds the address.

    A guest's record kept apart without the address (someone else's claim held it first) takes
    it now, proven: the claim that came first must not keep the owner from their own replies."""
    commenter = reply.commenter
    address = email.strip()
    if commenter is None or commenter.address_proof != Commenter.AddressProof.TYPED or not address:
        return False
    if commenter.email.lower() != address.lower() and (commenter.email or commenter.user_id is not None):
        return False
    proven = Commenter.objects.filter(holding(address)).exclude(address_proof=Commenter.AddressProof.TYPED)
    try:
        with transaction.atomic():
            if proven.exists():
                return False
            return bool(
                Commenter.objects.filter(
                    pk=commenter.pk, email=commenter.email, address_proof=Commenter.AddressProof.TYPED
                ).update(email=commenter.email or address, address_proof=Commenter.AddressProof.MAIL)
            )
    except IntegrityError:  # another record was proven under the address meanwhile
        return False


def _store_commenter(author: Author, commenter: Commenter, approved_count: int = 0) -> Commenter:
    """Save what ``_find_commenter`` found: create a new commenter (with ``approved_count``
    replies already), or link an existing one to the account."""
    if commenter.pk is not None:
        if getattr(commenter, "_speakout_link_user", False):
            commenter.save(update_fields=["user"])
        return commenter
    commenter.approved_count = approved_count
    if not insert_row(commenter, unless_taken=True):
        # Another request filed a record of the same kind (claim or proven) under this address
        # meanwhile: this writer's record is kept apart, without the address.
        commenter.email = ""
        commenter.address_proof = Commenter.AddressProof.TYPED
        commenter.save()
    return commenter


def avatar_key_for(author: Author, commenter: Commenter | None) -> str:
    return avatar_for(
        user_id=author.user.pk if author.is_signed_in else None,
        commenter_id=commenter.pk if commenter is not None else None,
        guest_key=guest_key(author.guest_token),
    )


def display_name_for(author: Author, name: str) -> str:
    if author.is_signed_in:
        user = author.user
        full = user.get_full_name() if hasattr(user, "get_full_name") else ""
        return (full or user.get_username())[:100]
    return name or _("Anonymous")


def shared_keys(checks: list[Check] | None = None) -> list[str]:
    """The shared-cache entries a reply post reads (the rules, the client keys, the staff's
    names and what the policy checks ask for), for a front end to read them in one round trip
    with ``sharedreads.read_together`` before it looks at the post."""
    keys = [*DiscussionSettings.shared_keys(), client_keys_cache_key(), STAFF_NAMES_KEY]
    for check in checks if checks is not None else load_checks():
        keys.extend(check.shared_keys())
    return keys


# The endings of the paths a reply is posted to: the JSON and embed APIs' (``.../replies``) and
# the HTML form's. A path another view also ends with only has a few more keys read together.
REPLY_POST_PATHS = ("/replies", "/discussion/post/", "/embed/thread/post/")


def reply_post_keys(request: Any) -> list[str]:
    """``shared_keys()`` for a request posting a reply, read by ``sharedreads.SharedReadsMiddleware``
    with what the middleware reads before the view (the site's language) in one round trip."""
    if request.method != "POST" or not request.path_info.endswith(REPLY_POST_PATHS):
        return []
    # And the refusal counts of the client, under the hashes it most likely has (submit_reply).
    return [*shared_keys(), *refusals.keys(likely_client_hashes(request), None)]


def submit_reply(
    *,
    thread: Thread,
    data: Mapping[str, Any],
    author: Author,
    checks: list[Check] | None = None,
    check_form_token: bool = True,
    rules: DiscussionSettings | None = None,
) -> SubmissionResult:
    """Validate and store one reply. ``data`` holds the form fields (see ``ReplyForm``).

    ``thread`` may be unsaved (a page's first reply, see ``adapter``): it is stored with the
    reply, in the same transaction, and only if the reply is.

    Every refusal spends the writer's refusal budget (``refusals``): a refusal answers a
    question (is this name protected? is it a staff member's?), so guessing is limited too."""
    client_hashes = tuple(author.client_hashes) or ((author.client_hash,) if author.client_hash else ())
    user = author.user if author.is_signed_in else None
    if refusals.spent(client_hashes, user):
        return SubmissionResult(REJECTED, errors={"__all__": [refusals.message()]}, code="rate_limit")
    result = _submit_reply(
        thread=thread, data=data, author=author, checks=checks, check_form_token=check_form_token, rules=rules
    )
    if result.outcome == REJECTED and result.code != "rate_limit":
        refusals.count(client_hashes, user)
    return result


def _submit_reply(
    *,
    thread: Thread,
    data: Mapping[str, Any],
    author: Author,
    checks: list[Check] | None,
    check_form_token: bool,
    rules: DiscussionSettings | None,
) -> SubmissionResult:
    rules = rules or DiscussionSettings.load()
    form = ReplyForm(data, require_identity=rules.require_name_email, signed_in=author.is_signed_in)
    if not form.is_valid():
        errors = {name: [str(message) for message in messages] for name, messages in form.errors.items()}
        return SubmissionResult(REJECTED, errors=errors, code="invalid")
    cleaned = form.cleaned_data
    if cleaned["thread"] != thread.key:
        return SubmissionResult(
            REJECTED, errors={"__all__": [_("This form belongs to another thread.")]}, code="invalid"
        )

    submission_id = cleaned.get("submission_id") or None
    if submission_id:
        existing = Reply.objects.filter(submission_id=submission_id).select_related("thread").first()
        if existing is not None:
            return _retry_result(existing, thread, author, cleaned["body"])

    parent = None
    if cleaned.get("parent"):
        parent = Reply.objects.filter(pk=cleaned["parent"]).first()
        if parent is None:
            return SubmissionResult(
                REJECTED, errors={"__all__": [_("The reply you are answering is no longer available.")]}, code="parent"
            )

    name = display_name_for(author, cleaned.get("name", ""))
    email = cleaned.get("email", "")
    website = cleaned.get("website", "")
    now = timezone.now()

    # Everything that only reads (the commenter, every check, the rendering) happens before the
    # transaction: on SQLite that transaction holds the one write lock, and every millisecond
    # spent in it is a millisecond no other reply can be stored. A first-time writer's
    # commenter is checked unsaved and stored only with the reply; so a refused reply still
    # writes nothing, not even the commenter.
    commenter = _find_commenter(author, name, email, website)
    submission = Submission(
        thread=thread,
        body=cleaned["body"],
        name=name,
        email=email or (commenter.email if commenter else ""),
        website=website,
        client_hash=author.client_hash,
        client_hashes=tuple(author.client_hashes),
        guest_keys=(
            *(() if author.new_guest_token else guest_keys(author.guest_token)),
            *(key for token in author.earlier_guest_tokens for key in guest_keys(token)),
        ),
        rules=rules,
        now=now,
        parent=parent,
        user=author.user if author.is_signed_in else None,
        commenter=commenter,
        form_age=read_form_token(cleaned.get("form_token") or "", thread.key),
        honeypot=cleaned.get("homepage", ""),
        check_form_token=check_form_token,
        extra={"confirm": _confirmations(data)},
    )
    run = PolicyRun(submission, checks)
    result = run.check()
    if result.rejection is not None:
        return _refused(result.rejection)
    status = {
        Decision.ACCEPT: Reply.Status.APPROVED,
        Decision.HOLD: Reply.Status.PENDING,
        Decision.SPAM: Reply.Status.SPAM,
    }[result.decision]
    body_html = render_markdown(cleaned["body"])
    wishes = writer_wishes(cleaned, author)
    if status == Reply.Status.APPROVED and connection.in_atomic_block:
        # Inside a caller's transaction (a command, a test), whose own reads see the reply before
        # it commits: its pages are retired now too, not only at that commit (count_new_reply).
        versions.bump_now(thread_dependency(thread.key))
    with transaction.atomic():
        lost_race = run.reserve()
        if lost_race is not None:
            return _refused(lost_race)
        if thread.pk is None:
            # A page's first reply: its thread exists only from here, so a refused reply
            # (however many) leaves none behind.
            thread = submission.thread = _store_thread(thread)
        approved = status == Reply.Status.APPROVED
        new_commenter = commenter is not None and commenter.pk is None
        if commenter is not None:
            # A new commenter is created with its first approved reply already counted.
            commenter = submission.commenter = _store_commenter(author, commenter, approved_count=int(approved))
        reply = Reply(
            thread=thread,
            parent=parent,
            depth=(parent.depth + 1) if parent else 0,
            commenter=commenter,
            user=author.user if author.is_signed_in else None,
            author_name=name,
            author_website=website,
            body=cleaned["body"],
            body_html=body_html,
            status=status,
            moderation_reason=result.reasons[:500],
            created_at=now,
            client_hash=author.client_hash,
            # An account's reply is the account's alone: the browser's guest cookie outlives a
            # sign-out, so whoever used the browser next would hold the reply too.
            guest_key="" if author.is_signed_in else guest_key(author.guest_token),
            avatar_key=avatar_key_for(author, commenter),
            submission_id=submission_id,
            approved_repliers_only=bool(cleaned.get("approved_repliers_only")),
            language=(translation.get_language() or "")[:35],
        )
        try:
            # A savepoint only where a clash can happen: the same submission id sent twice.
            with transaction.atomic(savepoint=submission_id is not None):
                insert_reply(reply, _path_base(parent))
        except IntegrityError:
            # The same submission arrived twice at once (a double click); keep the first.
            if submission_id is None:
                raise
            existing = Reply.objects.filter(submission_id=submission_id).first()
            if existing is None:
                raise
            transaction.set_rollback(True)  # nor the commenter or the counts of this attempt
            return _retry_result(existing, thread, author, cleaned["body"])
        run.accepted(reply)
        outcome = PUBLISHED if approved else HELD
        signals.reply_posted.send(
            sender=Reply,
            reply=reply,
            outcome=outcome,
            notify_replies=bool(cleaned.get("notify_replies")),
            notify_posts=bool(cleaned.get("notify_posts")),
            email=email,
            notify_answers=wishes["notify_answers"],
            notify_outcome=wishes["notify_outcome"],
            federate=bool(cleaned.get("federate")),
        )
        if approved:
            # Last: the thread's row is what every reply to it updates, so its lock (on
            # PostgreSQL) is held only from here to the commit, not while mails are rendered.
            count_new_reply(reply, thread, commenter_counted=new_commenter)
    return SubmissionResult(outcome, reply=reply)


# The lean write: a reply is stored on every post, and building these statements through the ORM
# cost more CPU than running them. The table, column and field names are the models' own; every
# value is a parameter, prepared by its field as save() would. tests/discussion/test_lean_write.py
# compares every column they write with the ORM's.
_STATEMENTS: dict[tuple[str, type, Any], tuple[str, list[Any]]] = {}


def _insert_statement(model: type[Any], unless_taken: bool) -> tuple[str, list[Any]]:
    key = (connection.vendor, model, unless_taken)
    if key not in _STATEMENTS:
        quote = connection.ops.quote_name
        fields = [field for field in model._meta.local_concrete_fields if not field.primary_key]
        names = ", ".join(quote(field.column) for field in fields)
        marks = ", ".join(["%s"] * len(fields))
        table, pk = quote(model._meta.db_table), quote(model._meta.pk.column or "id")
        skip = " ON CONFLICT DO NOTHING" if unless_taken else ""
        statement = f"INSERT INTO {table} ({names}) VALUES ({marks}){skip} RETURNING {pk}"  # nosec B608
        _STATEMENTS[key] = (statement, fields)
    return _STATEMENTS[key]


def address_held(email: str) -> bool:
    """Whether a commenter holds ``email`` in any spelling of its case:
    ``Commenter.objects.filter(holding(email)).exists()`` as one plain statement through the
    same index (asked on every first-time writer's post)."""
    key = (connection.vendor, Commenter, "address_held")
    if key not in _STATEMENTS:
        quote = connection.ops.quote_name
        table, column = quote(Commenter._meta.db_table), quote(Commenter._meta.get_field("email").column or "email")
        statement = f"SELECT 1 FROM {table} WHERE UPPER({column}) = UPPER(%s) LIMIT 1"  # nosec B608
        _STATEMENTS[key] = (statement, [])
    with connection.cursor() as cursor:
        cursor.execute(_STATEMENTS[key][0], [email])
        return cursor.fetchone() is not None


def insert_row(instance: Any, *, unless_taken: bool = False) -> bool:
    """INSERT an unsaved model instance (no parents, no signals) as ``save()`` would, and set its
    id. ``unless_taken``: when a unique value is already taken, insert nothing and return False
    instead of raising IntegrityError (so no savepoint is needed around it)."""
    if not connection.features.can_return_columns_from_insert:
        try:
            with transaction.atomic(savepoint=unless_taken):
                instance.save(force_insert=True)
        except IntegrityError:
            if not unless_taken:
                raise
            return False
        return True
    statement, fields = _insert_statement(type(instance), unless_taken)
    values = [field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(statement, values)
        row = cursor.fetchone()
    if row is None:
        return False
    instance.pk = row[0]
    instance._state.adding, instance._state.db = False, connection.alias
    return True


def insert_reply(reply: Reply, path_base: str) -> None:
    """Store a new reply and give it its tree path (which holds its id): what ``reply.save()``
    and an ``update(path=...)`` would do, in plain statements (one on PostgreSQL, which takes
    the id from the sequence and writes its path in the same INSERT)."""
    if not reply.avatar_key:
        reply.avatar_key = avatar_for(user_id=reply.user_id, commenter_id=reply.commenter_id, guest_key=reply.guest_key)
    if connection.vendor == "postgresql":
        statement, fields = _insert_reply_with_path()
        values = [field.get_db_prep_save(field.pre_save(reply, True), connection) for field in fields]
        with connection.cursor() as cursor:
            cursor.execute(statement, [*values, path_base])
            reply.pk, reply.path = cursor.fetchone()
        reply._state.adding, reply._state.db = False, connection.alias
        return
    insert_row(reply)
    reply.path = path_base + path_segment(reply.pk)
    quote = connection.ops.quote_name
    table, pk, path = quote(Reply._meta.db_table), quote(Reply._meta.pk.column or "id"), quote("path")
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {path} = %s WHERE {pk} = %s", [reply.path, reply.pk])  # nosec B608


# A reply's path segment (``models.path_segment``) in SQL, for the id in ``{id}``: its base-36
# digits (a bigint has at most 13), leading zeros dropped, then padded to the segment's width
# (LPAD alone would cut a longer one).
_DIVISORS = ",".join(str(36**power) for power in range(13))
PATH_SEGMENT_SQL = (
    "(SELECT LPAD(t, GREATEST({width}, LENGTH(t)), '0') || '/' FROM (SELECT LTRIM(STRING_AGG("  # nosec B608
    "SUBSTR('0123456789abcdefghijklmnopqrstuvwxyz', (({id} / d) %% 36)::int + 1, 1), '' ORDER BY d DESC), '0') "
    f"AS t FROM UNNEST('{{{{{_DIVISORS}}}}}'::bigint[]) AS d) AS digits)"
)


def _insert_reply_with_path() -> tuple[str, list[Any]]:
    """The reply's INSERT on PostgreSQL, its id taken from the table's sequence first, so the
    path (the parent's path, the last parameter, then the id's segment) goes in with the row."""
    key = (connection.vendor, Reply, "with_path")
    if key not in _STATEMENTS:
        quote = connection.ops.quote_name
        pk_column = Reply._meta.pk.column or "id"
        fields = [
            field for field in Reply._meta.local_concrete_fields if not field.primary_key and field.name != "path"
        ]
        names = ", ".join(quote(field.column or field.name) for field in fields)
        marks = ", ".join(["%s"] * len(fields))
        table, pk, path = quote(Reply._meta.db_table), quote(pk_column), quote("path")
        segment = PATH_SEGMENT_SQL.format(id="new.id", width=PATH_SEGMENT_LENGTH - 1)
        statement = (
            # Only the model's own names and the constant above go in; the values are parameters.
            f"WITH new AS (SELECT NEXTVAL(PG_GET_SERIAL_SEQUENCE('{Reply._meta.db_table}', '{pk_column}')) AS id) "  # nosec B608
            f"INSERT INTO {table} ({pk}, {names}, {path}) SELECT new.id, {marks}, %s || {segment} FROM new "
            f"RETURNING {pk}, {path}"
        )
        _STATEMENTS[key] = (statement, fields)
    return _STATEMENTS[key]


def count_new_reply(reply: Reply, thread: Thread, *, commenter_counted: bool) -> None:
    """``_count_approved(reply, +1, ...)`` for a reply just stored in ``thread``: the same
    changes, in plain statements. The page cache's version of the thread moves after the commit:
    a page read under the old version was rendered from what was there before, or already shows
    the reply; either is retired then. (No other connection sees the reply before, so a bump
    before the commit retires nothing more; ``_submit_reply`` makes one only inside a caller's
    transaction.)"""
    versions.bump_at_commit(thread_dependency(thread.key))
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        table, count, version, pk = (quote(name) for name in (Thread._meta.db_table, "approved_count", "version", "id"))
        cursor.execute(
            f"UPDATE {table} SET {count} = {count} + 1, {version} = {version} + 1 WHERE {pk} = %s",  # nosec B608
            [thread.pk],
        )
        if reply.commenter_id and not commenter_counted:
            table = quote(Commenter._meta.db_table)
            cursor.execute(
                f"UPDATE {table} SET {count} = {count} + 1 WHERE {pk} = %s",  # nosec B608
                [reply.commenter_id],
            )


def wishes_by_default(author: Author) -> bool:
    """Whether the writer's boxes about their own reply start ticked: for a signed-in reader with
    a verified address (mail can go there at once); a guest's typed address must confirm first."""
    return author.is_signed_in and bool(verified_addresses(author.user))


def writer_wishes(cleaned: Mapping[str, Any], author: Author) -> dict[str, bool]:
    """The boxes ``notify_answers`` and ``notify_outcome`` as sent, or by default if missing."""
    wishes = {name: cleaned.get(name) for name in ("notify_answers", "notify_outcome")}
    if any(value is None for value in wishes.values()):
        default = wishes_by_default(author)
        wishes = {name: default if value is None else bool(value) for name, value in wishes.items()}
    return {name: bool(value) for name, value in wishes.items()}


def _refused(rejection: Verdict) -> SubmissionResult:
    target = rejection.field or "__all__"
    confirm = {rejection.code: rejection.confirm} if rejection.confirm else {}
    return SubmissionResult(REJECTED, errors={target: [rejection.message]}, code=rejection.code, confirm=confirm)


def _confirmations(data: Mapping[str, Any]) -> set[str]:
    """Codes of the warnings the writer chose to overrule (the ``confirm`` field, repeatable)."""
    values = data.getlist("confirm") if hasattr(data, "getlist") else data.get("confirm") or []
    if isinstance(values, str):
        values = [values]
    return {str(value) for value in values if value}


MAX_PATH_DEPTH = 200


def _path_base(parent: Reply | None) -> str:
    """The tree path a child extends. Past MAX_PATH_DEPTH levels a reply is filed beside its
    parent (its ``parent`` and ``depth`` still say where it really belongs), so paths stay short
    enough to index on every database."""
    if parent is None:
        return ""
    if parent.depth + 1 >= MAX_PATH_DEPTH:
        return parent.path[:-PATH_SEGMENT_LENGTH]
    return parent.path


def _retry_result(existing: Reply, thread: Thread, author: Author, body: str) -> SubmissionResult:
    """A resent form returns the reply it created, but only to the person who sent it: a
    submission id must not become a way to read someone else's held reply. A first-time guest's
    double click carries no guest cookie yet, so the same client sending the same text counts."""
    same_sender = is_author(existing, author) or (
        bool(author.client_hash) and existing.client_hash == author.client_hash and existing.body == body
    )
    if existing.thread_id != thread.pk or not same_sender:
        return SubmissionResult(
            REJECTED,
            errors={"__all__": [_("This form was already sent. Please reload the page.")]},
            code="already_sent",
        )
    outcome = PUBLISHED if existing.status == Reply.Status.APPROVED else HELD
    return SubmissionResult(outcome, reply=existing, duplicate_of_retry=True)


def _count_approved(reply: Reply, delta: int, *, thread: Thread | None = None, commenter_counted: bool = False) -> None:
    """Count a reply in (or out of) its thread's and its commenter's approved replies, and bump
    the thread's version. ``thread``: the reply's thread when the caller has it (its key names the
    version, so it need not be read again); ``commenter_counted``: the commenter was created with
    this reply already counted."""
    changes = {"approved_count": F("approved_count") + delta, "version": F("version") + 1}
    if thread is not None and thread.pk == reply.thread_id:
        Thread.objects.filter(pk=thread.pk).update_versions([thread.key], **changes)
    else:
        Thread.objects.filter(pk=reply.thread_id).update(**changes)
    if reply.commenter_id and not commenter_counted:
        Commenter.objects.filter(pk=reply.commenter_id).update(approved_count=F("approved_count") + delta)


# Authors' own actions -----------------------------------------------------------------------


def is_author(reply: Reply, author: Author) -> bool:
    return wrote(reply, user=author.user, guest_token=author.guest_token)


def within_edit_window(reply: Reply, rules: DiscussionSettings | None = None, now: datetime | None = None) -> bool:
    rules = rules or DiscussionSettings.load()
    return (now or timezone.now()) <= reply.created_at + timedelta(minutes=rules.edit_window_minutes)


def can_change(reply: Reply, author: Author, rules: DiscussionSettings | None = None) -> bool:
    return reply.status != Reply.Status.TRASH and is_author(reply, author) and within_edit_window(reply, rules)


def owner_can_edit(reply: Reply, rules: DiscussionSettings | None = None) -> bool:
    """For a person whose ownership was proven another way (a signed "manage my replies" link,
    their account): the same window as ``can_change``, without the cookie."""
    return reply.status != Reply.Status.TRASH and within_edit_window(reply, rules)


def edit_reply(reply: Reply, body: str, author: Author | None, *, owner_confirmed: bool = False) -> SubmissionResult:
    """Change a reply's text, rendered and sanitised like a new one. ``owner_confirmed``: the
    caller has already proven the reader owns the reply (``author`` may then be None)."""
    from .forms import EditReplyForm

    allowed = owner_can_edit(reply) if owner_confirmed else author is not None and can_change(reply, author)
    if not allowed:
        return SubmissionResult(
            REJECTED, reply=reply, errors={"__all__": [_("This reply can no longer be changed.")]}, code="forbidden"
        )
    form = EditReplyForm({"body": body})
    if not form.is_valid():
        return SubmissionResult(
            REJECTED, reply=reply, errors={k: [str(m) for m in v] for k, v in form.errors.items()}, code="invalid"
        )
    with transaction.atomic():
        reply.body = form.cleaned_data["body"]
        reply.body_html = render_markdown(reply.body)
        reply.edited_at = timezone.now()
        reply.save(update_fields=["body", "body_html", "edited_at"])
        reply.thread.bump_version()
        signals.reply_edited.send(sender=Reply, reply=reply)
    return SubmissionResult(PUBLISHED if reply.status == Reply.Status.APPROVED else HELD, reply=reply)


def delete_own_reply(reply: Reply, author: Author) -> bool:
    if not can_change(reply, author):
        return False
    set_status(reply, Reply.Status.TRASH, actor=None, reason=_("Deleted by its author."), action="author_delete")
    return True


class TooManyReports(Exception):
    """A client sent more reports than ``REPORTS_PER_HOUR`` allows; the message says so."""

    def __init__(self) -> None:
        super().__init__(_("You have sent many reports in a short time. Please try again later."))


def reportable_replies() -> QuerySet[Reply]:
    """Replies a reader may report: published, on a public thread that is not hidden."""
    return (
        Reply.objects.select_related("thread")
        .filter(status=Reply.Status.APPROVED, thread__is_public=True)
        .exclude(thread__status=Thread.Status.HIDDEN)
    )


def flag_reply(reply: Reply, reason: str, note: str = "", client_hash: str = "") -> Flag:
    """Record a reader's report and tell the moderators (signal ``reply_flagged``).

    A client's second report of the same reply, while the first is open, changes nothing and
    alerts nobody; past ``REPORTS_PER_HOUR`` reports in an hour a client gets TooManyReports,
    so reports cannot be used to flood the moderators' mailboxes."""
    if client_hash:
        open_report = reply.flags.filter(client_hash=client_hash, resolved_at__isnull=True).first()
        if open_report is not None:
            return open_report
        limit = app_settings.REPORTS_PER_HOUR
        recent = Flag.objects.filter(client_hash=client_hash, created_at__gte=timezone.now() - timedelta(hours=1))
        if limit and recent.count() >= limit:
            raise TooManyReports()
    with transaction.atomic():
        # The text as reported: its author may edit it within the edit window (``edit_reply``).
        flag = Flag.objects.create(
            reply=reply, reason=reason, note=note, client_hash=client_hash, reported_body=reply.body
        )
        signals.reply_flagged.send(sender=Reply, reply=reply, flag=flag)
    return flag


# Moderators' actions -------------------------------------------------------------------------


def set_status(
    reply: Reply, status: str, *, actor: Any = None, reason: str = "", action: str | None = None, notice: str = ""
) -> Reply:
    """Move a reply to another queue, keeping counts, the log and the thread version right.
    ``notice``: the kind words to send its writer with a removal (see ``signals.reply_moderated``)."""
    with transaction.atomic():
        reply = Reply.objects.select_for_update().select_related("thread").get(pk=reply.pk)
        old_status = reply.status
        if old_status == status:
            return reply
        Reply.objects.filter(pk=reply.pk).update(status=status)
        reply.status = status
        if old_status == Reply.Status.APPROVED:
            _count_approved(reply, -1)
        elif status == Reply.Status.APPROVED:
            _count_approved(reply, +1)
        else:
            reply.thread.bump_version()
        if status in (Reply.Status.APPROVED, Reply.Status.SPAM, Reply.Status.TRASH):
            reply.flags.filter(resolved_at__isnull=True).update(resolved_at=timezone.now())
        action = action or status
        ModerationLogEntry.objects.create(
            reply=reply, commenter_id=reply.commenter_id, actor=actor, action=action, reason=reason[:500]
        )
        signals.reply_moderated.send(
            sender=Reply,
            reply=reply,
            old_status=old_status,
            new_status=status,
            actor=actor,
            reason=reason,
            action=action,
            notice=notice,
        )
    return reply


def resolve_flags(reply: Reply, *, actor: Any = None, reason: str = "") -> int:
    """Keep a reported reply as it is and close its open reports, with a log entry."""
    with transaction.atomic():
        resolved = reply.flags.filter(resolved_at__isnull=True).update(resolved_at=timezone.now())
        if resolved:
            ModerationLogEntry.objects.create(
                reply=reply, commenter_id=reply.commenter_id, actor=actor, action="dismiss_reports", reason=reason[:500]
            )
    return resolved


def delete_permanently(reply: Reply, *, actor: Any = None, reason: str = "") -> None:
    with transaction.atomic():
        if reply.status == Reply.Status.APPROVED:
            _count_approved(reply, -1)
        ModerationLogEntry.objects.create(
            reply=None,
            commenter_id=reply.commenter_id,
            actor=actor,
            action="delete",
            reason=(reason or f"#{reply.pk}")[:500],
        )
        Thread.objects.filter(pk=reply.thread_id).update(version=F("version") + 1)
        if reply.external_id:
            # An import of the same file must not bring back what a person or moderator deleted.
            RemovedReply.objects.get_or_create(thread_id=reply.thread_id, external_id=reply.external_id)
        signals.reply_deleted.send(sender=Reply, reply=reply)
        reply.delete()


def ban_commenter(commenter: Commenter, *, actor: Any = None, reason: str = "") -> None:
    with transaction.atomic():
        commenter.is_banned = True
        commenter.banned_reason = reason[:500]
        commenter.save(update_fields=["is_banned", "banned_reason"])
        hashes = set(commenter.replies.exclude(client_hash="").values_list("client_hash", flat=True))
        for client_hash in hashes:
            BannedClient.objects.get_or_create(client_hash=client_hash, defaults={"reason": reason[:500]})
        ModerationLogEntry.objects.create(commenter=commenter, actor=actor, action="ban", reason=reason[:500])


def unban_commenter(commenter: Commenter, *, actor: Any = None, reason: str = "") -> None:
    with transaction.atomic():
        commenter.is_banned = False
        commenter.save(update_fields=["is_banned"])
        hashes = set(commenter.replies.exclude(client_hash="").values_list("client_hash", flat=True))
        BannedClient.objects.filter(client_hash__in=hashes).delete()
        ModerationLogEntry.objects.create(commenter=commenter, actor=actor, action="unban", reason=reason[:500])
