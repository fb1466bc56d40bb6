"""The reply policy pipeline: an ordered list of checks, each saying why.

Each check looks at a ``Submission`` and returns ``None`` (no objection) or a ``Verdict``:
``REJECT`` stops the pipeline and sends the writer back with the message; ``SPAM`` and ``HOLD``
are collected, and the strongest wins (spam over hold). Every reason is stored on the reply for
moderators. Add a check by subclassing ``Check`` and listing its dotted path in
``SPEAKOUT_DISCUSSION_POLICY_CHECKS``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils.functional import cached_property
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from speakout.net import ratelimit

from . import app_settings
from .models import SAME_TEXT_PREFIX, BannedClient, Commenter, DiscussionSettings, Reply, Thread
from .rendering import count_links


class Decision(enum.IntEnum):
    ACCEPT = 0
    HOLD = 1
    SPAM = 2
    REJECT = 3


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    code: str
    message: str
    field: str | None = None  # the form field the message belongs to, for rejections
    # A rejection the writer may overrule: the label of a "send anyway" checkbox. Ticked, its
    # code comes back in ``Submission.extra["confirm"]`` and the check decides again.
    confirm: str = ""


@dataclass
class Submission:
    thread: Thread
    body: str
    name: str
    email: str
    website: str
    client_hash: str
    rules: DiscussionSettings
    now: datetime
    parent: Reply | None = None
    user: Any = None  # a signed-in user
    # Unsaved (``pk`` None) for a first-time writer: it is stored only with the reply.
    commenter: Commenter | None = None
    form_age: float | None = None
    honeypot: str = ""
    check_form_token: bool = True
    extra: dict[str, Any] = field(default_factory=dict)
    # The client's hash under every key still kept (current first), so bans and rate limits
    # recorded before a key rotation still match. Empty: just ``client_hash``.
    client_hashes: tuple[str, ...] = ()
    # What the writer's guest token files replies under (under every secret key still kept).
    guest_keys: tuple[str, ...] = ()

    @property
    def all_client_hashes(self) -> tuple[str, ...]:
        if self.client_hashes:
            return tuple(self.client_hashes)
        return (self.client_hash,) if self.client_hash else ()


class Check:
    """One rule. Override ``check``; return None when the rule has nothing to say."""

    code = "check"

    def shared_keys(self) -> list[str]:
        """The shared-cache keys ``check`` reads, so that a front end reads them with the
        others in one round trip (``speakout.net.sharedreads``). Optional: a key left out is
        simply read when asked for."""
        return []

    def check(self, submission: Submission) -> Verdict | None:
        """Runs before the reply's transaction (nothing is written yet, and on SQLite no write
        lock is held), so it must not write; ``submission.commenter`` is then unsaved (``pk``
        None) for a first-time writer."""
        raise NotImplementedError

    def reserve(self, submission: Submission) -> Verdict | None:
        """Called inside the reply's transaction once every check has passed, just before it is
        stored: claim atomically what ``check`` only looked at, so concurrent submissions cannot
        all pass (rate limits). Return a rejection if another one got there first."""
        return None

    def accepted(self, submission: Submission, stored: object) -> None:
        """Called in the transaction once what was submitted is stored (a reply, a contact
        message), so a check can record what it needs."""


class ClosedThreadCheck(Check):
    code = "closed"

    def check(self, submission: Submission) -> Verdict | None:
        if not submission.thread.accepts_replies(submission.rules.auto_close_days, submission.now):
            return Verdict(Decision.REJECT, self.code, _("Replies are closed for this report."))
        if submission.parent is not None and (
            submission.parent.thread_id != submission.thread.pk or submission.parent.status != Reply.Status.APPROVED
        ):
            # The code a parent id that was never used gets: another would tell which ids hold a reply.
            return Verdict(Decision.REJECT, "parent", _("The reply you are answering is no longer available."))
        return None


class TimeTrapCheck(Check):
    """Forms sent within seconds of being shown are held for a moderator (one signal among the
    honeypot, the rate limits and the word lists, never a wall a person hits); forms older than a
    day, or without a genuine token, are stale. Where the age cannot be known, or the form was
    shown again after an error, ``read_form_token`` answers an age that passes."""

    code = "time_trap"

    def check(self, submission: Submission) -> Verdict | None:
        if not submission.check_form_token:
            return None
        age = submission.form_age
        if age is None or age > app_settings.FORM_MAX_AGE:
            return Verdict(
                Decision.REJECT,
                "form_expired",
                _("This form has expired. Your text is still here: please send it again."),
            )
        if age < app_settings.MIN_SECONDS_TO_SUBMIT:
            seconds = app_settings.MIN_SECONDS_TO_SUBMIT
            message = ngettext(
                "Sent within %(seconds)d second of the form being shown.",
                "Sent within %(seconds)d seconds of the form being shown.",
                seconds,
            ) % {"seconds": seconds}
            return Verdict(Decision.HOLD, "too_fast", message)
        return None


class HoneypotCheck(Check):
    code = "honeypot"

    def check(self, submission: Submission) -> Verdict | None:
        if submission.honeypot:
            return Verdict(Decision.SPAM, self.code, _("A field only robots see was filled in."))
        return None


class RateLimitCheck(Check):
    """At most one reply per N seconds, and a burst limit, per client, guest token and account.

    Other forms reuse it by overriding ``scope`` (the cache key prefix), ``limits`` and
    ``wait_message`` (see speakout.contact.services)."""

    code = "rate_limit"
    scope = "speakout:rl"

    def limits(self) -> tuple[int, int, int]:
        """Seconds between two posts, then at most this many posts per this many seconds."""
        burst_count, burst_window = app_settings.BURST_LIMIT
        return app_settings.SECONDS_BETWEEN_REPLIES, burst_count, burst_window

    def wait_message(self, seconds: int) -> str:
        return ngettext(
            "You are replying too fast. Please wait %(seconds)d second and send again.",
            "You are replying too fast. Please wait %(seconds)d seconds and send again.",
            seconds,
        ) % {"seconds": seconds}

    def _keys(self, submission: Submission, *, every_client_key: bool = False) -> list[str]:
        keys: list[str] = []
        hashes = submission.all_client_hashes if every_client_key else (submission.client_hash,)
        keys.extend(f"client:{value}" for value in hashes if value)
        # What proves the writer, never a typed address: keyed on one, a stranger typing it would
        # be told "too fast" just after its owner wrote (who wrote the reply that just appeared?),
        # and could keep its owner from writing by typing it.
        if submission.user is not None:
            keys.append(f"user:{submission.user.pk}")
        else:
            guests = submission.guest_keys if every_client_key else submission.guest_keys[:1]
            keys.extend(f"guest:{value}" for value in guests)
        return keys

    def check(self, submission: Submission) -> Verdict | None:
        wait, burst_count, _burst_window = self.limits()
        keys = self._keys(submission, every_client_key=True)
        names = [f"{self.scope}:last:{key}" for key in keys] if wait else []
        names += [f"{self.scope}:burst:{key}" for key in keys] if burst_count else []
        found = ratelimit.read(names)  # every pause and count in one round trip
        for key in keys:
            if wait and ratelimit.paused(f"{self.scope}:last:{key}", found):
                return Verdict(Decision.REJECT, self.code, self.wait_message(wait))
            if burst_count and ratelimit.used(f"{self.scope}:burst:{key}", found) >= burst_count:
                return self.burst_verdict()
        return None

    def burst_verdict(self) -> Verdict:
        return Verdict(
            Decision.REJECT,
            self.code,
            _("You have sent many replies in a short time. Please try again in a few minutes."),
        )

    def reserve(self, submission: Submission) -> Verdict | None:
        """Start the pause and take a place in the burst, giving both back if another request
        took the last one first."""
        wait, burst_count, burst_window = self.limits()
        paused: list[str] = []
        counted: list[str] = []

        def undo() -> None:
            ratelimit.end_pauses(paused)
            for key in counted:
                ratelimit.unhit(key)

        for key in self._keys(submission):
            if wait:
                last_key = f"{self.scope}:last:{key}"
                if not ratelimit.pause(last_key, wait):
                    undo()
                    return Verdict(Decision.REJECT, self.code, self.wait_message(wait))
                paused.append(last_key)
            if burst_count:
                burst_key = f"{self.scope}:burst:{key}"
                counted.append(burst_key)
                if ratelimit.hit(burst_key, burst_window) > burst_count:
                    undo()
                    return self.burst_verdict()
        return None


class DuplicateCheck(Check):
    """The same text twice in a thread from the same writer, known by what proves who they are
    (their account or guest token). Never by a typed address, nor by the client: the answer
    would tell anyone who types an address whether its owner wrote a given reply, or anyone on
    one network (a household, an office) that a public reply was written from there. A double
    click from one client is the rate limit's."""

    code = "duplicate"

    def check(self, submission: Submission) -> Verdict | None:
        if submission.thread.pk is None:
            return None  # a thread that does not exist yet has no replies
        user_id = submission.user.pk if submission.user is not None else None
        keys = list(submission.guest_keys)
        if user_id is None and not keys:
            return None  # nothing proves who wrote what: no earlier reply is theirs
        if same_text_exists(submission.thread.pk, submission.body, user_id=user_id, guest_keys=keys):
            return Verdict(Decision.REJECT, self.code, _("You have already posted this reply here."), field="body")
        return None


def same_text_exists(thread_id: int, body: str, *, user_id: Any = None, guest_keys: list[str]) -> bool:
    """Whether a reply of the thread, not in the bin, has exactly this text and was written by
    the account (``user_id``), else under one of the guest keys. Plain SQL: the index on the
    text's first characters (``speakout_reply_same_text``) is used only when the statement names
    the same expression with the same constants, which the ORM sends as parameters; without it
    every post read the whole thread."""
    function = {"postgresql": "SUBSTRING", "sqlite": "SUBSTR"}.get(connection.vendor)
    if function is None:  # another database: the ORM, without the index
        same_writer = Q(user_id=user_id) if user_id is not None else Q(guest_key__in=guest_keys)
        same_text = Reply.objects.filter(same_writer, thread_id=thread_id, body=body)
        return same_text.exclude(status=Reply.Status.TRASH).exists()
    quote = connection.ops.quote_name
    if user_id is not None:
        writer, params = f"{quote('user_id')} = %s", [user_id]
    elif guest_keys:
        writer, params = f"{quote('guest_key')} IN ({', '.join(['%s'] * len(guest_keys))})", list(guest_keys)
    else:
        return False
    body_column = quote("body")
    # SQLite puts the text compared with the column into the index's expression (constant
    # propagation), which then no longer matches the index; "+" makes the comparison no
    # column's, so the expression stays as indexed.
    whole_text = f"+{body_column}" if connection.vendor == "sqlite" else body_column
    # Table, column and function names and the prefix length are the code's own; values are parameters.
    statement = (
        f"SELECT 1 FROM {quote(Reply._meta.db_table)} WHERE {quote('thread_id')} = %s"  # nosec B608
        f" AND {function}({body_column}, 1, {SAME_TEXT_PREFIX:d}) = %s AND {whole_text} = %s"
        f" AND {quote('status')} <> %s AND {writer} LIMIT 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [thread_id, body[:SAME_TEXT_PREFIX], body, Reply.Status.TRASH, *params])
        return cursor.fetchone() is not None


def banned_client(hashes: tuple[str, ...] | list[str]) -> BannedClient | None:
    """``BannedClient.objects.filter(client_hash__in=hashes).first()``, asked on every post and
    almost always answered "none": a plain statement finds the ban's id, and only a ban found
    is loaded through the ORM."""
    quote = connection.ops.quote_name
    table, pk = quote(BannedClient._meta.db_table), quote(BannedClient._meta.pk.column or "id")
    column = quote(BannedClient._meta.get_field("client_hash").column or "client_hash")
    marks = ", ".join(["%s"] * len(hashes))
    # Table and column names are the model's own; the hashes are parameters.
    statement = f"SELECT {pk} FROM {table} WHERE {column} IN ({marks}) ORDER BY {pk} LIMIT 1"  # nosec B608
    with connection.cursor() as cursor:
        cursor.execute(statement, list(hashes))
        row = cursor.fetchone()
    return None if row is None else BannedClient.objects.filter(pk=row[0]).first()


class BannedCheck(Check):
    code = "banned"

    def check(self, submission: Submission) -> Verdict | None:
        if submission.commenter is not None and submission.commenter.is_banned:
            return Verdict(Decision.SPAM, self.code, _("The commenter is banned."))
        hashes = submission.all_client_hashes
        if hashes:
            banned = banned_client(hashes)
            if banned is not None:
                submission.extra["banned_client"] = banned
                return Verdict(Decision.SPAM, self.code, _("The client is banned."))
        return None

    def accepted(self, submission: Submission, stored: object) -> None:
        # A ban recorded under an older key carries over to the current key, so it outlives the
        # rotation for as long as the client keeps coming back.
        banned = submission.extra.get("banned_client")
        if banned is not None and submission.client_hash and banned.client_hash != submission.client_hash:
            BannedClient.objects.get_or_create(client_hash=submission.client_hash, defaults={"reason": banned.reason})


class _WordListCheck(Check):
    decision = Decision.HOLD

    def words(self, rules: DiscussionSettings) -> list[str]:
        raise NotImplementedError

    def check(self, submission: Submission) -> Verdict | None:
        haystack = " ".join([submission.body, submission.name, submission.email, submission.website]).casefold()
        for word in self.words(submission.rules):
            if word in haystack:
                return Verdict(self.decision, self.code, _("Contains “%(word)s”.") % {"word": word})
        return None


class BlockWordsCheck(_WordListCheck):
    code = "block_word"
    decision = Decision.SPAM

    def words(self, rules: DiscussionSettings) -> list[str]:
        return rules.block_word_list


class HoldWordsCheck(_WordListCheck):
    code = "hold_word"

    def words(self, rules: DiscussionSettings) -> list[str]:
        return rules.hold_word_list


class LinkCountCheck(Check):
    code = "links"

    def check(self, submission: Submission) -> Verdict | None:
        limit = submission.rules.hold_link_count
        links = count_links(submission.body)
        if limit and links >= limit:
            return Verdict(
                Decision.HOLD,
                self.code,
                ngettext("Has %(count)d link.", "Has %(count)d links.", links) % {"count": links},
            )
        return None


class TrustCheck(Check):
    """Hold a commenter's replies until a moderator has approved one of them."""

    code = "first_reply"

    def check(self, submission: Submission) -> Verdict | None:
        if not submission.rules.hold_first_reply:
            return None
        user = submission.user
        if user is not None and getattr(user, "is_staff", False):
            return None
        if submission.commenter is not None and submission.commenter.approved_count > 0:
            return None
        return Verdict(Decision.HOLD, self.code, _("First reply from this commenter."))


@dataclass
class PolicyResult:
    decision: Decision
    verdicts: list[Verdict]

    @cached_property
    def rejection(self) -> Verdict | None:
        return next((verdict for verdict in self.verdicts if verdict.decision == Decision.REJECT), None)

    @property
    def reasons(self) -> str:
        return " ".join(verdict.message for verdict in self.verdicts if verdict.decision != Decision.ACCEPT)


_CHECK_CLASSES: dict[tuple[str, ...], list[Any]] = {}


def load_checks() -> list[Check]:
    # Run twice per reply post: the classes are imported once per list of paths, not each time.
    paths = tuple(app_settings.POLICY_CHECKS)
    classes = _CHECK_CLASSES.get(paths)
    if classes is None:
        classes = _CHECK_CLASSES[paths] = [import_string(path) for path in paths]
    return [check_class() for check_class in classes]


def evaluate(submission: Submission, checks: list[Check] | None = None) -> PolicyResult:
    verdicts: list[Verdict] = []
    decision = Decision.ACCEPT
    for check in checks if checks is not None else load_checks():
        verdict = check.check(submission)
        if verdict is None:
            continue
        verdicts.append(verdict)
        decision = max(decision, verdict.decision)
        if verdict.decision == Decision.REJECT:
            break
    return PolicyResult(decision, verdicts)


class PolicyRun:
    """The one order every form that takes the policy goes through (replies, contact messages):

    1. ``check()`` before any transaction: every check looks, nothing is written;
    2. ``reserve()`` inside the transaction that stores the submission, once every check has
       passed: each check claims atomically what it only looked at (checking alone let
       concurrent requests from one client all through). A rejection means another request got
       there first: the transaction is rolled back and the writer sees why;
    3. ``accepted(stored)`` in the same transaction, once the submission is stored.
    """

    def __init__(self, submission: Submission, checks: list[Check] | None = None):
        self.submission = submission
        self.checks = checks if checks is not None else load_checks()

    def check(self) -> PolicyResult:
        return evaluate(self.submission, self.checks)

    def reserve(self) -> Verdict | None:
        for check in self.checks:
            lost_race = check.reserve(self.submission)
            if lost_race is not None:
                transaction.set_rollback(True)
                return lost_race
        return None

    def accepted(self, stored: object) -> None:
        for check in self.checks:
            check.accepted(self.submission, stored)
