"""The subscriptions' one logic layer: requests (double opt-in), confirmation, unsubscription,
and the notifications sent on approved replies and first publications, plus the digests.

Every function that writes runs in a transaction and queues its mails in it (the outbox), so a
rollback drops both. Reply notifications are recorded with the reply and their mails queued by
the worker (``send_due_reply_notifications``). Nothing but the one confirmation mail is ever
sent to an unconfirmed row.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Required, TypedDict, Unpack

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from speakout.discussion import services as discussion_services
from speakout.discussion.models import Commenter, ModerationLogEntry, Reply, Thread
from speakout.net import ratelimit
from speakout.outbox.sender import one_batch, organisation_name
from speakout.outbox.services import queue_mail, queue_mails, schedule_send

from . import mails
from .app_settings import app_settings
from .models import Announcement, AnswerNotice, NotifiedReply, Subscription

if TYPE_CHECKING:
    from speakout.outbox.models import OutgoingMail

logger = logging.getLogger("speakout.subscriptions")

Kind = Subscription.Kind
Frequency = Subscription.Frequency
#: Kinds about one reply, asked for by its writer: one confirmation mail covers them all.
REPLY_KINDS = (Kind.ANSWERS, Kind.OUTCOME)
DIGEST_PERIODS = {Frequency.DAILY: timedelta(days=1), Frequency.WEEKLY: timedelta(days=7)}


def normalise_email(email: str) -> str:
    """The address as stored and compared: trimmed and lower-cased. Raises ValueError if invalid."""
    address = (email or "").strip().lower()
    if any(char in address for char in "\r\n\0,;<> ") or len(address) > 254:
        raise ValueError("Not a valid email address.")
    try:
        validate_email(address)
    except ValidationError as error:
        raise ValueError("Not a valid email address.") from error
    return address


def active(queryset: QuerySet[Subscription] | None = None) -> QuerySet[Subscription]:
    """Confirmed rows that have not unsubscribed: the only ones that get notifications."""
    queryset = queryset if queryset is not None else Subscription.objects.all()
    return queryset.filter(confirmed_at__isnull=False, unsubscribed_at__isnull=True)


# Requests and confirmation -------------------------------------------------------------------


class Target(TypedDict, total=False):
    """What ``open_subscription`` takes besides the address."""

    kind: Required[str]
    thread: Thread | None
    category: str
    frequency: str
    language: str
    reply: Reply | None


def request_subscription(email: str, **target: Unpack[Target]) -> Subscription:
    """Create (or reuse) an unconfirmed subscription and queue its one confirmation mail.

    The caller's response must not depend on the result: an address that is already subscribed
    gets nothing new, an unconfirmed one keeps its single confirmation mail (a repeated request
    queues no second one), a new one gets its confirmation. Raises ValueError for a bad address
    or arguments."""
    return _request(email, [target])[0]


def request_posts_lists(
    email: str, *, categories: Iterable[str], frequency: str = Frequency.INSTANT, language: str = ""
) -> list[Subscription]:
    """Ask for several new-post lists at once (the whole site is the category ""): one row per
    list, and one confirmation mail naming every list not confirmed yet, whose link confirms
    them all. Otherwise as ``request_subscription``."""
    targets = [
        Target(kind=Kind.POSTS, category=category, frequency=frequency, language=language)
        for category in dict.fromkeys(categories)
    ]
    return _request(email, targets)


def _request(email: str, targets: list[Target]) -> list[Subscription]:
    """A row per target, and one confirmation mail for those not confirmed yet."""
    with transaction.atomic():
        rows = [open_subscription(email, **target) for target in targets]
        waiting = [row for row in rows if row.confirmed_at is None]
        if waiting:
            send_confirmation(waiting[0], together=waiting[1:])
    return rows


def open_subscription(
    email: str,
    *,
    kind: str,
    thread: Thread | None = None,
    category: str = "",
    frequency: str = Frequency.INSTANT,
    language: str = "",
    reply: Reply | None = None,
) -> Subscription:
    """The address's active row for this target, created (unconfirmed) if there is none."""
    address = normalise_email(email)
    if kind in REPLY_KINDS:
        if reply is None:
            raise ValueError("A subscription about a reply needs the reply.")
        thread = reply.thread
    elif kind == Kind.THREAD:
        if thread is None:
            raise ValueError("A thread subscription needs a thread.")
    elif kind == Kind.POSTS:
        thread = None
        if frequency not in Frequency.values:
            raise ValueError(f"Unknown frequency {frequency!r}.")
    else:
        raise ValueError(f"Unknown kind {kind!r}.")
    if kind != Kind.POSTS:
        category, frequency = "", Frequency.INSTANT
    if kind not in REPLY_KINDS:
        reply = None
    target = Subscription.target_for(kind, thread, category, reply)
    language = language or translation.get_language() or ""
    subscription = Subscription.objects.filter(email=address, target=target, unsubscribed_at__isnull=True).first()
    if subscription is None:
        try:
            with transaction.atomic():
                subscription = Subscription.objects.create(
                    email=address,
                    kind=kind,
                    thread=thread,
                    reply=reply,
                    category=category,
                    target=target,
                    frequency=frequency,
                    language=language[:35],
                )
        except IntegrityError:  # a concurrent request created it
            subscription = Subscription.objects.get(email=address, target=target, unsubscribed_at__isnull=True)
    return subscription


def send_confirmation(subscription: Subscription, *, together: Iterable[Subscription] = ()) -> None:
    """The one confirmation mail of an unconfirmed row (the outbox's dedupe key keeps it one).
    ``together``: other unconfirmed rows of the address that its link confirms too."""
    if not ratelimit.allow(
        "speakout:subscriptions:confirm:" + hashlib.sha256(subscription.email.encode()).hexdigest(),
        *app_settings.CONFIRMATIONS_PER_ADDRESS,
    ):
        # Enough confirmations went to this address today, whoever asked from wherever: the
        # request stays unconfirmed (and expires), and the asker's answer is the same.
        return
    # Mail about one reply names each thing asked for it (answers, the moderators' decision).
    kinds = [subscription.kind, *(row.kind for row in together)]
    title = mails.thread_title(subscription.thread)  # "" for new posts, which have no thread

    def subject() -> str:
        if subscription.kind in REPLY_KINDS:
            return _("Please confirm: mail about your reply to “%(title)s”") % {"title": title}
        if subscription.kind == Kind.THREAD:
            return _("Please confirm: new replies to “%(title)s”") % {"title": title}
        return _("Please confirm your subscription to new posts")

    mails.send(
        subscription,
        "confirm",
        subject,
        {
            "confirm_url": mails.confirm_url(subscription, together=together),
            "together": list(together),
            "thread": subscription.thread,
            "kinds": kinds,
            "days": app_settings.CONFIRM_MAX_AGE // 86400,
        },
        dedupe_key=f"subscriptions:confirm:{subscription.pk}" + "".join(f"+{row.pk}" for row in together),
        unsubscribe=False,
    )


def request_reply_mail(
    email: str, reply: Reply, *, answers: bool = False, outcome: bool = False, language: str = ""
) -> list[Subscription]:
    """Its writer asks for mail about ``reply`` (answers to it, the moderators' decision on it) at
    an address nobody has proved yet: the rows wait for the one confirmation mail's link. Raises
    ValueError for a bad address."""
    kinds = [kind for kind, wanted in ((Kind.ANSWERS, answers), (Kind.OUTCOME, outcome)) if wanted]
    return _request(email, [Target(kind=kind, reply=reply, language=language) for kind in kinds])


def confirm(subscription: Subscription) -> bool:
    """Confirm a pending, unexpired request. False when it was unsubscribed or has expired."""
    now = timezone.now()
    if subscription.unsubscribed_at is not None:
        return False
    if subscription.confirmed_at is not None:
        return True
    if subscription.created_at < now - timedelta(seconds=app_settings.CONFIRM_MAX_AGE):
        return False
    with transaction.atomic():
        updated = Subscription.objects.filter(pk=subscription.pk, confirmed_at__isnull=True).update(confirmed_at=now)
        if updated:
            subscription.confirmed_at = now
            if subscription.kind in REPLY_KINDS and subscription.reply is not None:
                discussion_services.address_confirmed(subscription.reply, subscription.email)
            _catch_up(subscription)
    return True


def _catch_up(subscription: Subscription) -> None:
    """Mail about a reply that happened while its writer's address was not proved yet (nothing
    may go to it then), sent once it is: "your reply is published" when a moderator approved it
    meanwhile after it was held, and the approved answers to it, through the usual answers mail."""
    reply = subscription.reply
    if reply is None or reply.status != Reply.Status.APPROVED or not reply.thread.is_public:
        return
    if subscription.kind == Kind.OUTCOME:
        if NotifiedReply.objects.filter(reply_id=reply.pk, was_held=True).exists():
            # The same key as the announcement's: whichever comes first sends it, once.
            queue_mail(**_published_mail(reply, subscription))
    elif subscription.kind == Kind.ANSWERS:
        answers = Reply.objects.filter(parent=reply, status=Reply.Status.APPROVED).select_related("commenter", "user")
        for answer in answers:
            if proven_author_email(answer).strip().lower() == subscription.email or same_writer(answer, reply):
                continue
            AnswerNotice.objects.get_or_create(
                subscription=subscription, answer=answer, defaults={"email": subscription.email, "thread": reply.thread}
            )
        transaction.on_commit(_ensure_notification_task)


def unsubscribe(subscription: Subscription) -> None:
    """Stop all mail for this subscription (idempotent). For answers to one's replies the link
    is per thread: it stops the answers to every reply of the address in that discussion."""
    now = timezone.now()
    Subscription.objects.filter(pk=subscription.pk, unsubscribed_at__isnull=True).update(unsubscribed_at=now)
    if subscription.kind == Kind.ANSWERS:
        Subscription.objects.filter(
            email=subscription.email, kind=Kind.ANSWERS, thread=subscription.thread, unsubscribed_at__isnull=True
        ).update(unsubscribed_at=now)
    subscription.unsubscribed_at = subscription.unsubscribed_at or now


def delete_expired_requests() -> int:
    """Delete unconfirmed requests older than the confirmation link's lifetime."""
    cutoff = timezone.now() - timedelta(seconds=app_settings.CONFIRM_MAX_AGE)
    return Subscription.objects.filter(confirmed_at__isnull=True, created_at__lt=cutoff).delete()[0]


# Reply notifications -------------------------------------------------------------------------


def author_email(reply: Reply) -> str:
    if reply.commenter is not None and reply.commenter.email:
        return reply.commenter.email
    if reply.user_id:
        return getattr(reply.user, "email", "") or ""
    return ""


def proven_author_email(reply: Reply) -> str:
    """The writer's address where it is proven (not a guest's typed claim): what decides that a
    mail would be about the reader's own reply. A claim must not silence someone else's mail."""
    commenter = reply.commenter
    if commenter is not None and commenter.email and commenter.address_proof != Commenter.AddressProof.TYPED:
        return commenter.email
    if reply.user_id:
        return getattr(reply.user, "email", "") or ""
    return ""


def same_writer(one: Reply, other: Reply) -> bool:
    """Whether two replies have the same, proven writer (account, commenter record or guest token)."""
    return bool(
        (one.user_id and one.user_id == other.user_id)
        or (one.commenter_id and one.commenter_id == other.commenter_id)
        or (one.guest_key and one.guest_key == other.guest_key)
    )


def notify_reply_approved(reply: Reply, *, new: bool = False, was_held: bool = False) -> bool:
    """Tell the thread's confirmed subscribers about an approved reply, once per reply ever.

    Records that the reply is to be announced, in the caller's transaction; the worker queues
    the mails once it commits (``send_due_reply_notifications``), so storing a reply costs the
    same whether its thread has no subscriber or thousands. Never for a reply that is not
    approved. ``new``: the reply was stored in the current transaction, so it cannot have been
    recorded yet. ``was_held``: a moderator approved it after it waited, so its writer, if they
    asked, hears that it is published. Returns whether the reply was recorded now (False: it was
    before)."""
    if reply.status != Reply.Status.APPROVED:
        return False
    # A new reply's transaction is the caller's: no savepoint of its own (two fewer queries).
    with transaction.atomic(savepoint=not new):
        if new:
            discussion_services.insert_row(NotifiedReply(reply_id=reply.pk))
        else:
            _record, created = NotifiedReply.objects.get_or_create(reply_id=reply.pk, defaults={"was_held": was_held})
            if not created:
                return False
    transaction.on_commit(_ensure_notification_task)
    return True


def _ensure_notification_task() -> None:
    from speakout.net.tasks import enqueue_unless_waiting

    from .tasks import send_reply_notifications_task

    try:
        enqueue_unless_waiting(send_reply_notifications_task)
    except Exception:
        # The record is committed; the worker's sweep finds it even without a task.
        logger.exception("Could not enqueue the reply notification task; the sweep will send them")


NOTIFICATION_BATCH = 100  # replies at most in one batch
# Mails at most in one batch (a single reply may exceed it): they are held in memory between the
# rendering and the transaction, and that transaction holds SQLite's write lock while it writes them.
NOTIFICATION_MAILS = 500


def send_due_reply_notifications() -> int:
    """Queue the mails of every recorded reply not announced yet, oldest first, a batch at a
    time; returns how many mails were queued.

    A batch's mails are rendered first, outside any transaction (on SQLite a transaction holds
    the one write lock that every reply post needs), then claimed and queued in one short
    transaction: on PostgreSQL the claimed rows are locked (``SKIP LOCKED``: a second worker takes
    none of them), on SQLite the transaction holds the write lock from its start. So two workers
    never announce one reply twice (the loser only rendered in vain), and a worker that dies
    leaves its batch for the next run."""
    queued = 0
    with one_batch():
        while True:
            claimed, mails_queued = _announce_batch(NOTIFICATION_BATCH)
            if not claimed:
                break  # nothing due, or all of it taken by another worker
            queued += mails_queued
    return queued + send_due_answers()


def _announce_batch(size: int) -> tuple[int, int]:
    """Announce up to ``size`` recorded replies; returns (replies claimed, mails queued)."""
    records = list(
        NotifiedReply.objects.filter(notified_at__isnull=True)
        .order_by("id")
        .values_list("id", "reply_id", "was_held")[:size]
    )
    due = {record_id: reply_id for record_id, reply_id, _held in records}
    was_held = {reply_id for _record_id, reply_id, held in records if held}
    if not due:
        return 0, 0
    replies = Reply.objects.select_related("thread", "commenter", "user").in_bulk(due.values())
    # A reply in a thread that is no longer public (its report made private or a draft) is
    # announced to nobody: its record is dropped below like a reply that was unpublished.
    approved = {
        reply.pk: reply
        for reply in replies.values()
        if reply.status == Reply.Status.APPROVED and reply.thread.is_public
    }
    followers: dict[int | None, list[Subscription]] = {}
    for subscription in active(
        Subscription.objects.filter(kind=Kind.THREAD, thread_id__in={reply.thread_id for reply in approved.values()})
    ).order_by("pk"):
        followers.setdefault(subscription.thread_id, []).append(subscription)
    answered = _answer_subscriptions(approved.values())
    writers = _outcome_subscriptions([reply for reply in approved.values() if reply.pk in was_held])
    # Whole replies, oldest first, while their mails stay within NOTIFICATION_MAILS; the rest wait
    # for the next batch.
    chosen: dict[int, Any] = {}
    mails_in_batch, prepared = 0, {}
    for record_id in sorted(due):
        reply = approved.get(due[record_id])
        count = len(followers.get(reply.thread_id, [])) if reply is not None else 0
        if chosen and mails_in_batch + count > NOTIFICATION_MAILS:
            break
        if reply is not None:
            try:
                # An address that hears of this answer as an answer to its own reply is not
                # told of it again as a new reply in the thread.
                own = {subscription.email for subscription in answered.get(reply.pk, [])}
                told = [row for row in followers.get(reply.thread_id, []) if row.email not in own]
                prepared[reply.pk] = _reply_mails(reply, told)
                if reply.pk in writers:
                    prepared[reply.pk].append(_published_mail(reply, writers[reply.pk]))
            except Exception:
                # Left waiting (and tried again by the next run) rather than holding up the
                # replies behind it.
                logger.exception("The notification mails of reply %s could not be rendered", reply.pk)
                continue
        chosen[record_id] = due[record_id]
        mails_in_batch += count
    due = chosen
    if not due:
        return 0, 0
    queued = 0
    with transaction.atomic():
        claimed = set(
            NotifiedReply.objects.select_for_update(skip_locked=True)
            .filter(pk__in=due, notified_at__isnull=True)
            .values_list("id", flat=True)
        )
        if not claimed:
            return 0, 0
        NotifiedReply.objects.filter(pk__in=claimed).update(notified_at=timezone.now())
        # Read again under the claim: a moderator may have held or removed one meanwhile.
        still_approved = set(
            Reply.objects.filter(
                pk__in=[due[record_id] for record_id in claimed],
                status=Reply.Status.APPROVED,
                thread__is_public=True,
            ).values_list("pk", flat=True)
        )
        # A reply held or removed before the worker came is forgotten, so that approving it
        # (again) announces it then.
        NotifiedReply.objects.filter(
            pk__in=[record_id for record_id in claimed if due[record_id] not in still_approved]
        ).delete()
        mails = []
        for record_id in sorted(claimed):
            reply_id = due[record_id]
            if reply_id in still_approved and reply_id in prepared:
                mails.extend(prepared[reply_id])
                if reply_id in answered:
                    AnswerNotice.objects.bulk_create(
                        [
                            AnswerNotice(
                                subscription=subscription,
                                answer_id=reply_id,
                                email=subscription.email,
                                thread=subscription.thread,
                            )
                            for subscription in answered[reply_id]
                        ],
                        ignore_conflicts=True,
                    )
        # One statement for the batch's mails (a savepoint and an INSERT each, one by one).
        queued = queue_mails(mails)
        if queued:
            schedule_send()  # once for the batch's mails
    return len(claimed), queued


def _answer_subscriptions(replies: Iterable[Reply]) -> dict[int, list[Subscription]]:
    """For each reply that answers another: the active subscriptions to answers of the reply it
    answers, but not the answer's own writer (answering oneself tells nobody)."""
    answers = [reply for reply in replies if reply.parent_id]
    if not answers:
        return {}
    watching: dict[int | None, list[Subscription]] = {}
    for subscription in active(
        Subscription.objects.filter(kind=Kind.ANSWERS, reply_id__in={reply.parent_id for reply in answers})
    ).select_related("reply", "thread"):
        watching.setdefault(subscription.reply_id, []).append(subscription)
    result: dict[int, list[Subscription]] = {}
    for answer in answers:
        own = proven_author_email(answer).strip().lower()
        for subscription in watching.get(answer.parent_id, []):
            if subscription.email == own or (subscription.reply and same_writer(answer, subscription.reply)):
                continue
            result.setdefault(answer.pk, []).append(subscription)
    return result


def _outcome_subscriptions(replies: Iterable[Reply]) -> dict[int | None, Subscription]:
    """The writer's confirmed wish to hear the moderators' decision, for each of these replies."""
    ids = [reply.pk for reply in replies]
    if not ids:
        return {}
    return {
        subscription.reply_id: subscription
        for subscription in active(Subscription.objects.filter(kind=Kind.OUTCOME, reply_id__in=ids)).order_by("pk")
    }


def _published_mail(reply: Reply, subscription: Subscription) -> dict[str, Any]:
    title = mails.thread_title(reply.thread)

    def subject() -> str:
        return _("Your reply to “%(title)s” is published") % {"title": title}

    return mails.render(
        subscription,
        "published",
        subject,
        {"reply": reply, "thread": reply.thread, "reply_url": reply_link(reply)},
        dedupe_key=f"subscriptions:published:{reply.pk}",
    )


def reply_link(reply: Reply) -> str:
    return f"{reply.thread.url}#reply-{reply.pk}" if reply.thread.url else ""


def _reply_mails(reply: Reply, followers: list[Subscription]) -> list[dict[str, Any]]:
    """The mails announcing ``reply`` to the thread's followers (not its author), rendered."""
    own = proven_author_email(reply).strip().lower()
    thread = reply.thread
    prepared = []
    title = mails.thread_title(thread)

    def context(shown: Reply, reply_id: str) -> dict[str, Any]:
        return {"reply": shown, "thread": thread, "reply_url": f"{thread.url}#reply-{reply_id}" if thread.url else ""}

    for subscription in followers:
        if subscription.email == own:
            continue

        def subject(title: str = title) -> str:
            return _("New reply to “%(title)s”") % {"title": title}

        prepared.append(
            mails.render_about_reply(
                subscription,
                "reply",
                subject,
                reply,
                context,
                dedupe_key=f"subscriptions:reply:{reply.pk}:{subscription.pk}",
            )
        )
    return prepared


# Answers to one's own reply ------------------------------------------------------------------


def send_due_answers(now: datetime | None = None) -> int:
    """Mail the answers waiting for their writers' addresses: per address and thread, at once when
    no mail about that thread went to the address in the last ``ANSWER_MINUTES``, else when that
    time is up (the worker's sweep comes back), then every answer waiting in one digest. Returns
    how many mails were queued."""
    now = now or timezone.now()
    # A mailed notice matters only while it holds the next mail back: older ones go.
    AnswerNotice.objects.filter(mailed_at__lt=now - timedelta(minutes=app_settings.ANSWER_MINUTES)).delete()
    waiting = (
        AnswerNotice.objects.filter(mailed_at__isnull=True)
        .order_by("email", "thread_id")
        .values_list("email", "thread_id")
        .distinct()
    )
    return sum(_mail_answers(email, thread_id, now) for email, thread_id in list(waiting))


def _last_answer_mail(email: str, thread_id: int) -> datetime | None:
    last: datetime | None = AnswerNotice.objects.filter(
        email=email, thread_id=thread_id, mailed_at__isnull=False
    ).aggregate(last=Max("mailed_at"))["last"]
    return last


def _mail_answers(email: str, thread_id: int, now: datetime) -> int:
    interval = timedelta(minutes=app_settings.ANSWER_MINUTES)
    last = _last_answer_mail(email, thread_id)
    if last is not None and now < last + interval:
        return 0  # the sweep comes back once the time is up
    with transaction.atomic():
        ids = list(
            AnswerNotice.objects.select_for_update(skip_locked=True)
            .filter(email=email, thread_id=thread_id, mailed_at__isnull=True)
            .values_list("pk", flat=True)
        )
        # Read again under the lock: another worker may have mailed this address meanwhile.
        last = _last_answer_mail(email, thread_id)
        if not ids or (last is not None and now < last + interval):
            return 0
        notices = list(
            AnswerNotice.objects.filter(pk__in=ids)
            .select_related("subscription", "answer", "answer__thread", "answer__parent")
            .order_by("answer__created_at", "pk")
        )
        # An answer held or removed since, or a subscription stopped since, is dropped quietly.
        good = [
            notice
            for notice in notices
            if notice.subscription.is_active
            and notice.answer.status == Reply.Status.APPROVED
            and notice.answer.thread.is_public
        ]
        AnswerNotice.objects.filter(pk__in=[notice.pk for notice in notices if notice not in good]).delete()
        if not good:
            return 0
        AnswerNotice.objects.filter(pk__in=[notice.pk for notice in good]).update(mailed_at=now)
        # Without an interval, a mail for each answer.
        batches = [good] if interval else [[notice] for notice in good]
        for batch in batches:
            queue_mail(**_answers_mail(batch))
    return len(batches)


def take_back_answer_name(reply: Reply) -> int:
    """``reply`` was anonymised: no mail not yet sent may carry the name it had (``reply`` still
    holds it). A queued mail of answers that holds it is dropped and its answers wait again, so the
    next sweep renders them with the name the reply has now and the reader still hears of them; a
    queued one whose answers were already let go (a mail retried past the interval) cannot be
    rendered again and is dropped. A mail the worker is sending right now is past taking back.
    Returns how many mails were dropped."""
    from speakout.outbox.models import OutgoingMail

    unsent = OutgoingMail.objects.filter(
        status__in=[OutgoingMail.Status.PENDING, OutgoingMail.Status.FAILED],
        dedupe_key__startswith="subscriptions:answers:",
    )
    dropped = 0
    for notice in AnswerNotice.objects.filter(answer=reply, mailed_at__isnull=False):
        dropped += _take_back_answers_mail(unsent, notice)
    # Any other queued mail of answers that links to the reply or names its writer (a whole
    # name: erasing "Bo" is not about "Bob"), its answers waiting again all the same.
    marker = re.compile(rf"#reply-{reply.pk}(?!\d)")
    name = " ".join(reply.author_name.split())
    naming = re.compile(rf"(?<!\w){re.escape(name)}(?!\w)") if name else None
    for dedupe_key, text in unsent.values_list("dedupe_key", "text_body"):
        if marker.search(text) or (naming and naming.search(text)):
            first = AnswerNotice.objects.filter(pk=str(dedupe_key).rsplit(":", 1)[1]).first()
            if first is not None and first.mailed_at is not None:
                dropped += _take_back_answers_mail(unsent, first)
            else:  # its answers were let go (a mail retried past the interval): it cannot be rendered again
                dropped += unsent.filter(dedupe_key=dedupe_key).delete()[0]
    return dropped


def _take_back_answers_mail(unsent: QuerySet[OutgoingMail], notice: AnswerNotice) -> int:
    """Drop the unsent mail of answers ``notice`` went out in; its answers wait again, for the
    next sweep to render as they are now. Returns how many mails were dropped."""
    batch = AnswerNotice.objects.filter(email=notice.email, thread_id=notice.thread_id, mailed_at=notice.mailed_at)
    keys = [f"subscriptions:answers:{pk}" for pk in batch.values_list("pk", flat=True)]
    removed: int = unsent.filter(dedupe_key__in=keys).delete()[0]
    if removed:
        batch.update(mailed_at=None)
    return removed


def take_back_writer_mail(reply: Reply) -> int:
    """``reply`` was anonymised or is being deleted: nothing may tie its writer's address to it. The mails
    not yet sent to the writer about it (published, removed, answers to it) are dropped, and the
    subscriptions it held for them end. A mail of answers that also told of answers to another of
    the writer's replies lets those wait again, for the next sweep to mail. Returns how many mails
    were dropped."""
    from speakout.outbox.models import OutgoingMail

    unsent = OutgoingMail.objects.filter(status__in=[OutgoingMail.Status.PENDING, OutgoingMail.Status.FAILED])
    about_it = Q(dedupe_key=f"subscriptions:published:{reply.pk}") | Q(
        dedupe_key__startswith=f"subscriptions:removal:{reply.pk}:"
    )
    dropped = unsent.filter(about_it).delete()[0]
    own = Subscription.objects.filter(reply_id=reply.pk)
    for notice in AnswerNotice.objects.filter(subscription__in=own, mailed_at__isnull=False):
        dropped += _take_back_answers_mail(unsent, notice)
    own.delete()
    if dropped:
        logger.info(
            "Dropped %d unsent mail(s) to the writer of reply %s, who anonymised or deleted it", dropped, reply.pk
        )
    return dropped


def take_back_reply_notices(reply: Reply) -> int:
    """``reply`` was anonymised or is being deleted: the subscribers' notices about it (its name
    and text) are dropped, the stored copies of sent ones too (delivered ones stay in the
    subscribers' inboxes; we keep no copy). One the worker is sending right now is past taking
    back."""
    from speakout.outbox.models import OutgoingMail

    return (
        OutgoingMail.objects.filter(dedupe_key__startswith=f"subscriptions:reply:{reply.pk}:")
        .exclude(status=OutgoingMail.Status.SENDING)
        .delete()[0]
    )


def answers_subject(count: int, title: str) -> str:
    """The subject of a digest of ``count`` answers in the thread ``title`` (in the active language)."""
    return ngettext(
        "%(count)d answer to your replies to “%(title)s”", "%(count)d answers to your replies to “%(title)s”", count
    ) % {"count": count, "title": title}


def _answers_mail(notices: list[AnswerNotice]) -> dict[str, Any]:
    """One mail for these answers (one thread, one address): the answer, or a digest of them."""
    subscription = max((notice.subscription for notice in notices), key=lambda row: row.pk)
    thread = notices[0].answer.thread
    title = mails.thread_title(thread)
    count = len(notices)

    def subject() -> str:
        if count == 1:
            return _("%(name)s answered your reply to “%(title)s”") % {
                "name": " ".join(notices[0].answer.author_name.split())[:100],
                "title": title,
            }
        return answers_subject(count, title)

    answers = [
        {"answer": notice.answer, "yours": notice.answer.parent, "url": reply_link(notice.answer)} for notice in notices
    ]
    return mails.render(
        subscription,
        "answers",
        subject,
        {"answers": answers, "thread": thread, "count": count},
        dedupe_key=f"subscriptions:answers:{notices[0].pk}",
    )


# Moderation outcomes -------------------------------------------------------------------------


def outcome_subscription(reply: Reply) -> Subscription | None:
    """The writer's confirmed wish to hear the moderators' decision on ``reply``, if there is one."""
    return active(Subscription.objects.filter(kind=Kind.OUTCOME, reply_id=reply.pk)).order_by("pk").first()


def send_removal_notice(reply: Reply, message: str) -> bool:
    """Queue the kind notice a moderator chose for a removed reply, in the caller's transaction,
    to its writer only if they asked to be told and proved the address. It names the site, never
    the moderator. Returns whether a mail was queued."""
    subscription = outcome_subscription(reply)
    if subscription is None or not message.strip():
        return False
    log_entries = ModerationLogEntry.objects.filter(reply_id=reply.pk).count()
    site = organisation_name()

    def subject() -> str:
        # The site, not the report: a removal is nobody's business who glances at an inbox.
        return _("About your reply on %(site)s") % {"site": site}

    mails.send(
        subscription,
        "removal_notice",
        subject,
        {"reply": reply, "thread": reply.thread, "message": message},
        dedupe_key=f"subscriptions:removal:{reply.pk}:{log_entries}",
    )
    return True


# New posts -----------------------------------------------------------------------------------


def posts_subscribers(categories: Iterable[str], frequency: str | None = None) -> QuerySet[Subscription]:
    queryset = active(Subscription.objects.filter(kind=Kind.POSTS)).filter(
        Q(category="") | Q(category__in=list(categories))
    )
    if frequency is not None:
        queryset = queryset.filter(frequency=frequency)
    return queryset


def announce_post(
    key: str,
    *,
    title: str,
    url: str,
    summary: str = "",
    categories: Iterable[str] = (),
    published_at: datetime | None = None,
    html: str = "",
    text: str = "",
    email_only: bool = False,
) -> Announcement | None:
    """Record a first publication (or a post sent by email only) and queue the instant mails.
    A key already announced sends nothing and returns None. Digest subscribers get it in their
    next digest. ``html`` and ``text`` are the post's whole content as mail shows it (an HTML
    fragment whose every address is on the site's own origin, and its plain text); without
    them the mail has the title, the summary and the link."""
    with transaction.atomic():
        announcement, created = Announcement.objects.get_or_create(
            key=key,
            defaults={
                "title": title[:500],
                "url": "" if email_only else url,
                "summary": summary,
                "categories": list(categories),
                "published_at": published_at or timezone.now(),
                "html": html,
                "text": text,
                "email_only": email_only,
            },
        )
        if not created:
            return None
        for subscription in posts_subscribers(announcement.categories, Frequency.INSTANT):
            mails.send(
                subscription,
                "post",
                post_subject(announcement),
                {"announcement": announcement},
                dedupe_key=f"subscriptions:post:{announcement.pk}:{subscription.pk}",
            )
    return announcement


def post_subject(announcement: Announcement) -> Callable[[], str]:
    def subject(title: str = announcement.title) -> str:
        return _("New post: %(title)s") % {"title": title}

    return subject


def render_post_preview(announcement: Announcement, *, email: str, language: str = "") -> dict[str, Any]:
    """The mail of ``announcement`` as a subscriber gets it, for an editor's preview or test
    send to ``email``: the arguments of one ``queue_mail`` call. It has no unsubscribe link
    (the reader is nobody's subscription) and says it is a test."""
    reader = Subscription(email=email, kind=Kind.POSTS, language=language)
    return mails.render(
        reader,
        "post",
        post_subject(announcement),
        {"announcement": announcement, "test": True},
        dedupe_key=None,
        unsubscribe=False,
    )


def send_digests(frequency: str, now: datetime | None = None) -> int:
    """Queue the digests that are due: one per subscriber whose last digest (or confirmation) is
    at least a period old, listing the posts announced since, if there are any. Returns how many
    were queued."""
    now = now or timezone.now()
    period = DIGEST_PERIODS[Frequency(frequency)]
    sent = 0
    due = active(Subscription.objects.filter(kind=Kind.POSTS, frequency=frequency)).filter(
        Q(last_digest_at__lte=now - period) | Q(last_digest_at__isnull=True, confirmed_at__lte=now - period)
    )
    for subscription_id in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            subscription = active(Subscription.objects.select_for_update()).filter(pk=subscription_id).first()
            if subscription is None:
                continue
            since = subscription.last_digest_at or subscription.confirmed_at
            if since is None or since > now - period:  # another worker sent it meanwhile
                continue
            published = Announcement.objects.filter(published_at__gt=since, published_at__lte=now)
            category = subscription.category
            announcements = [a for a in published if not category or category in (a.categories or [])]
            if announcements:
                count = len(announcements)

                def subject(count: int = count) -> str:
                    if frequency == Frequency.DAILY:
                        return _("Today's new posts (%(count)d)") % {"count": count}
                    return _("This week's new posts (%(count)d)") % {"count": count}

                mails.send(
                    subscription,
                    "digest",
                    subject,
                    {"announcements": announcements, "frequency": frequency},
                    dedupe_key=f"subscriptions:digest:{subscription.pk}:{now.isoformat()}",
                )
                sent += 1
            Subscription.objects.filter(pk=subscription.pk).update(last_digest_at=now)
    return sent


# A signed-in reader's own subscriptions ------------------------------------------------------


def verified_addresses(user: Any) -> list[str]:
    """The addresses a signed-in reader has proved they own (the discussion's rule, allauth's
    verified ones), normalised as subscriptions store them, sorted."""
    addresses = set()
    for email in discussion_services.verified_addresses(user):
        try:
            addresses.add(normalise_email(email))
        except ValueError:
            continue
    return sorted(addresses)


def subscribe_verified(email: str, **target: Unpack[Target]) -> Subscription:
    """Subscribe an address already proved to be the reader's (a verified account address): the
    row is confirmed at once and no confirmation mail goes out."""
    frequency = target.get("frequency", Frequency.INSTANT)
    with transaction.atomic():
        subscription = open_subscription(email, **target)
        if subscription.confirmed_at is None:  # however old the request: the address is proved now
            subscription.confirmed_at = timezone.now()
            Subscription.objects.filter(pk=subscription.pk).update(confirmed_at=subscription.confirmed_at)
        if subscription.kind == Kind.POSTS and subscription.frequency != frequency:
            change_frequency(subscription, frequency)
    return subscription


def change_frequency(subscription: Subscription, frequency: str) -> None:
    if subscription.kind != Kind.POSTS or frequency not in Frequency.values:
        raise ValueError(f"Unknown frequency {frequency!r}.")
    Subscription.objects.filter(pk=subscription.pk).update(frequency=frequency)
    subscription.frequency = frequency


def subscriptions_of(addresses: Iterable[str]) -> list[Subscription]:
    """Every subscription of these addresses that is pending or active, newest first."""
    return list(Subscription.objects.filter(email__in=addresses, unsubscribed_at__isnull=True).select_related("thread"))


def unsubscribe_all(addresses: Iterable[str]) -> int:
    """Stop every subscription of these addresses; returns how many were stopped."""
    stopping = Subscription.objects.filter(email__in=addresses, unsubscribed_at__isnull=True)
    return stopping.update(unsubscribed_at=timezone.now())
