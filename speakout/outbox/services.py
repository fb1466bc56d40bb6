"""Queueing and sending outgoing mail.

``queue_mail`` writes a row in the caller's transaction and, once that commits, makes sure a
``send_outbox_task`` waits in the queue (see ``schedule_send``): one task sends a batch of mails
over one connection. ``send_pending`` claims a row with a conditional UPDATE (so two
workers never send the same mail), sends it through Django's configured EMAIL_BACKEND and
records the outcome: sent; failed at once when the mail server refuses it for good (a 5xx reply to
the recipient or the message); else pending again with exponential backoff, or failed once the
mail has been retried for at least a day. ``send_due_mail`` (the worker's sweep) picks up retries,
rate-limited mails, mails whose task was lost, and mails whose worker died mid-send.

If a worker dies in the instant after the mail server accepted a message and before the row says
"sent" (one database write; in the sweep, the next mail's claim, which carries it), the mail is
sent again after the claim timeout, with the same Message-ID, so receivers can tell. A worker
killed at any other point sends nothing twice.
"""

from __future__ import annotations

import base64
import enum
import logging
import re
import smtplib
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from email.policy import Compat32
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db import connection as database
from django.utils import timezone

from speakout.net import ratelimit

from . import bounces, signing, verp
from .app_settings import app_settings
from .bounces import without_addresses
from .models import ALLOWED_HEADERS, ERROR_MAX_LENGTH, SUBJECT_MAX_LENGTH, OutgoingMail, Suppression
from .sender import for_the_batch, one_batch, sender_address

logger = logging.getLogger("speakout.outbox")

Status = OutgoingMail.Status


class SendOutcome(enum.StrEnum):
    """What one attempt at sending a mail came to (the keys of ``send_due_mail``'s counts)."""

    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    RATE_LIMITED = "rate_limited"
    NOT_CLAIMED = "not_claimed"
    SUPPRESSED = "suppressed"
    REFUSED = "refused"  # the mail server refused it for good (5xx): failed, not retried


SENT, RETRY, FAILED = SendOutcome.SENT, SendOutcome.RETRY, SendOutcome.FAILED
RATE_LIMITED, NOT_CLAIMED = SendOutcome.RATE_LIMITED, SendOutcome.NOT_CLAIMED
SUPPRESSED, REFUSED = SendOutcome.SUPPRESSED, SendOutcome.REFUSED

_FORBIDDEN = re.compile(r"[\r\n\0]")
_LANGUAGE = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")
_CANONICAL_HEADERS = {name.lower(): name for name in ALLOWED_HEADERS}


# Queueing -------------------------------------------------------------------------------------


def _check_line(what: str, value: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"The {what} must be a string.")
    if _FORBIDDEN.search(value):
        raise ValueError(f"The {what} must not contain line breaks or NUL characters.")
    return value


def clean_address(to: str) -> str:
    _check_line("recipient address", to)
    address = to.strip()
    try:
        validate_email(address)
    except ValidationError as error:
        raise ValueError(f"The recipient address {address!r} is not a valid email address.") from error
    return address


def clean_headers(headers: dict[str, str] | None) -> dict[str, str]:
    cleaned: dict[str, str] = {}
    for name, value in (headers or {}).items():
        canonical = _CANONICAL_HEADERS.get(str(name).strip().lower())
        if canonical is None:
            allowed = ", ".join(ALLOWED_HEADERS)
            raise ValueError(f"The header {name!r} may not be set; only these may: {allowed}.")
        cleaned[canonical] = _check_line(f"{canonical} header", value).strip()
    if "Reply-To" in cleaned:
        clean_address(parseaddr(cleaned["Reply-To"])[1] or cleaned["Reply-To"])
    return cleaned


def message_id_domain() -> str:
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2]
    return domain or "localhost"


def new_message_id() -> str:
    # The domain once per batch (``one_batch``): parsing the address took a fifth of queueing a mail.
    return f"<{uuid.uuid4().hex}@{for_the_batch('message_id_domain', message_id_domain)}>"


def queue_mail(
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    *,
    headers: dict[str, str] | None = None,
    language: str | None = None,
    dedupe_key: str | None = None,
) -> OutgoingMail:
    """Write an outgoing mail in the current transaction; it is sent once that commits.

    Call it inside the ``transaction.atomic()`` that stores what caused the mail: a rollback
    drops the mail too. With a ``dedupe_key`` already used, the existing row is returned and
    nothing new is queued. Raises ValueError for a bad address, a subject or header value with
    a line break or NUL (header injection), a header outside ``ALLOWED_HEADERS``, or a bad
    language tag. To queue many mails in one transaction, ``queue_mails`` and one
    ``schedule_send()`` cost less (each send task scheduled costs a query after the commit)."""
    mail = outgoing_mail(to, subject, text, html, headers=headers, language=language, dedupe_key=dedupe_key)
    if dedupe_key is None:
        mail.save()
    else:
        # Written first and looked up only if the key is taken: most keys are new (a reply's
        # notification, a first request), and a look-up before every write was a query each.
        try:
            with transaction.atomic():  # a savepoint: a duplicate key must not break the caller's transaction
                mail.save()
        except IntegrityError:
            existing = OutgoingMail.objects.filter(dedupe_key=dedupe_key).first()
            if existing is None:
                raise
            return existing
    schedule_send()
    return mail


def queue_mails(mails: Iterable[dict[str, Any]]) -> int:
    """``queue_mail(**mail)`` for each of ``mails`` (its keyword arguments), without its send
    task, in one statement: a mail whose ``dedupe_key`` is already used is left out, as
    ``queue_mail`` leaves it. Every mail is checked first, so a bad one raises ValueError and
    writes none. The caller calls ``schedule_send()``. Returns how many mails were given.

    For the worker, which queues a batch of notification mails at a time: one INSERT for the
    batch instead of a savepoint, an INSERT and its release per mail."""
    rows = [outgoing_mail(**mail) for mail in mails]
    OutgoingMail.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def outgoing_mail(
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    *,
    headers: dict[str, str] | None = None,
    language: str | None = None,
    dedupe_key: str | None = None,
) -> OutgoingMail:
    """The row ``queue_mail`` writes, checked (see there), not saved."""
    address = clean_address(to)
    _check_line("subject", subject)
    if len(subject) > SUBJECT_MAX_LENGTH:
        raise ValueError(f"The subject must be at most {SUBJECT_MAX_LENGTH} characters.")
    cleaned_headers = clean_headers(headers)
    language = (language or "").strip()
    if language and not _LANGUAGE.match(language):
        raise ValueError(f"{language!r} is not a language tag.")
    if dedupe_key is not None:
        _check_line("deduplication key", dedupe_key)
    return OutgoingMail(
        to=address,
        subject=subject,
        text_body=text,
        html_body=html or "",
        headers=cleaned_headers,
        language=language,
        message_id=new_message_id(),
        dedupe_key=dedupe_key,
    )


def schedule_send() -> None:
    """Make sure a send task runs once the current transaction commits (at once outside one).

    One task, ``send_outbox_task``, sends every due mail over one connection to the mail server.
    After the commit, a send task that waits in the queue (not started yet) is enough: the worker
    starts it later, so it finds this mail. Only when none waits is one enqueued, so a burst of
    mails (a busy thread's notifications) makes a task per batch, not one per mail. A rollback
    enqueues nothing. Task queues other than django-tasks' database backend, which cannot be
    asked what waits, get a task every time."""
    transaction.on_commit(_ensure_send_task)


def _ensure_send_task() -> None:
    from speakout.net.tasks import enqueue_unless_waiting

    from .tasks import send_outbox_task

    try:
        enqueue_unless_waiting(send_outbox_task)
    except Exception:
        # The mail is committed; the worker's sweep sends it even without a task.
        logger.exception("Could not enqueue the outbox's send task; the sweep will send the mail")


# Sending --------------------------------------------------------------------------------------


def retry_delay(attempts: int) -> timedelta:
    """1 minute after the first failure, then 2, 4, 8... capped (2 hours by default)."""
    seconds = app_settings.FIRST_RETRY_SECONDS * 2 ** max(0, min(attempts - 1, 30))
    return timedelta(seconds=min(seconds, app_settings.MAX_RETRY_SECONDS))


def take_rate_slot(now: datetime) -> bool:
    """Count one send against this minute's limit (shared cache); False when it is used up."""
    return ratelimit.allow("speakout:outbox:rate", app_settings.RATE_PER_MINUTE, 60, aligned=True, now=now)


def claim(mail_id: int, now: datetime, batch: SendBatch | None = None) -> bool:
    """Take a due pending mail for sending. Only one caller ever gets True for one attempt.
    With ``batch``, the sent mark of the batch's mail before goes with it (``SendBatch.unmarked``)."""
    changes = {"status": Status.SENDING, "claimed_at": now}
    if batch is not None and batch.unmarked is not None:
        claimed = update_mail(mail_id, Status.PENDING, changes, due=now, after=batch.unmarked) == 1
        batch.unmarked = None
        return claimed
    return update_mail(mail_id, Status.PENDING, changes, due=now) == 1


def sent_changes(mail: OutgoingMail) -> dict[str, Any]:
    """What marks a claimed mail sent."""
    return {
        "status": Status.SENT,
        "sent_at": timezone.now(),
        "claimed_at": None,
        "attempts": mail.attempts + 1,
        "last_error": "",
    }


# Every mail sent is claimed and marked sent, and building those two statements through the ORM
# cost more of the worker's CPU than running them. tests/outbox/test_lean_send.py compares them
# with the ORM's.
_UPDATES: dict[tuple[str, tuple[str, ...], bool], tuple[str, list[Any]]] = {}


def _update_statement(changes: dict[str, Any], due: bool) -> tuple[str, list[Any]]:
    key = (database.vendor, tuple(changes), due)
    if key not in _UPDATES:
        quote, meta = database.ops.quote_name, OutgoingMail._meta
        fields: list[Any] = [meta.get_field(name) for name in changes]
        assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
        where = f"{quote(meta.pk.column or 'id')} = %s AND {quote('status')} = %s"
        if due:
            where += f" AND {quote('next_attempt_at')} <= %s"
        _UPDATES[key] = (f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {where}", fields)  # nosec B608
    return _UPDATES[key]


def _update_values(
    fields: list[Any], mail_id: int, status: str, changes: dict[str, Any], due: datetime | None
) -> list[Any]:
    values = [field.get_db_prep_save(changes[field.name], database) for field in fields]
    values += [mail_id, str(status)]
    if due is not None:
        values.append(OutgoingMail._meta.get_field("next_attempt_at").get_db_prep_value(due, database))
    return values


def update_mail(
    mail_id: int,
    status: str,
    changes: dict[str, Any],
    *,
    due: datetime | None = None,
    after: tuple[int, str, dict[str, Any]] | None = None,
) -> int:
    """``OutgoingMail.objects.filter(pk=mail_id, status=status).update(**changes)`` (and
    ``next_attempt_at__lte=due`` with ``due``) as one plain statement, every value prepared by its
    field as the ORM would; returns how many rows changed (0 or 1).

    ``after``: another mail's change (its id, status and changes) made first, on PostgreSQL in
    the same statement (a data-modifying WITH): the sender marks a mail sent with the next
    mail's claim, one round trip and one commit instead of two each."""
    statement, fields = _update_statement(changes, due is not None)
    values = _update_values(fields, mail_id, status, changes, due)
    with database.cursor() as cursor:
        if after is not None:
            first, first_fields = _update_statement(after[2], False)
            first_values = _update_values(first_fields, *after, None)
            if database.vendor == "postgresql":
                # Two statements of the code's own; every value is a parameter.
                statement = f"WITH marked AS ({first}) {statement}"  # nosec B608
                values = first_values + values
            else:
                cursor.execute(first, first_values)
        cursor.execute(statement, values)
        return int(cursor.rowcount)


def encoded_words(text: str) -> str:
    """``text`` as RFC 2047 encoded words (base64 of UTF-8, split between characters), or as it
    is when it is ASCII. The email package's own encoding of a header (Django's for a subject)
    measures both encodings character by character first: a fifth of serialising a message
    whose subject has a typographic quote."""
    if text.isascii():
        return text
    words: list[str] = []
    chunk: list[str] = []
    size = 0
    for char in text:
        length = len(char.encode())
        # 39 bytes: 52 characters of base64, 64 with the markers, so that "Subject: " and a word
        # fit the first line (a word folded onto the next line would read back as a space first).
        if size + length > 39:
            words.append("".join(chunk))
            chunk, size = [], 0
        chunk.append(char)
        size += length
    words.append("".join(chunk))
    return " ".join(f"=?utf-8?b?{base64.b64encode(word.encode()).decode('ascii')}?=" for word in words)


class QuickFolding(Compat32):
    """The email package's default policy (``compat32``, which Django's messages use), writing a
    header that needs neither folding nor encoding (ASCII, one line, within the line length) as
    it is: what ``compat32`` writes for it too (``tests/outbox/test_lean_send.py`` compares
    both), without making a ``Header`` of every value and splitting it for folding, a third of
    serialising a reply notification."""

    def _as_is(self, name: str, value: Any) -> str | None:
        limit = self.max_line_length
        if (
            isinstance(value, str)
            and limit
            and len(name) + len(value) + 2 <= limit
            and value.isascii()
            and "\r" not in value
            and "\n" not in value
        ):
            return f"{name}: {value}{self.linesep}"
        return None

    def fold(self, name: str, value: Any) -> str:
        line = self._as_is(name, value)
        return super().fold(name, value) if line is None else line

    def fold_binary(self, name: str, value: Any) -> bytes:
        line = self._as_is(name, value)
        return super().fold_binary(name, value) if line is None else line.encode("ascii")


QUICK_FOLDING = QuickFolding()


class OutboxMessage(EmailMultiAlternatives):
    """A Django mail message, DKIM-signed as it is serialised when a key is configured."""

    dkim_key: bytes | None = None

    def message(self, *args: Any, **kwargs: Any) -> Any:
        subject = self.subject
        self.subject = encoded_words(str(subject))
        try:
            msg: Any = super().message(*args, **kwargs)  # Django's SafeMIME classes take linesep
        finally:
            self.subject = subject
        for part in msg.walk():
            if part.is_multipart() and part.get_boundary() is None:
                part.set_boundary(self._boundary())
        # The generator writes every part's headers with the message's policy.
        msg.policy = QUICK_FOLDING
        if self.dkim_key:
            # Signed over the very bytes the backend will send: the same object serialised the
            # same way (its boundary and Date are fixed by now).
            name, value = signing.signature(msg.as_bytes(linesep="\r\n"), self.dkim_key)
            msg[name] = value
        return msg

    def _boundary(self) -> str:
        """A random boundary found in neither body: what the email package's generator would
        choose, without compiling a regular expression per message to search the serialised
        parts for it (a seventh of a message's serialising). An encoded body cannot hold it:
        quoted-printable writes every "=" as "=3D", base64 has none inside; so the bodies'
        text is all that could."""
        texts = [self.body, *(str(content) for content, _type in self.alternatives)]
        while True:
            boundary = f"==============={uuid.uuid4().hex}=="
            if not any(boundary in text for text in texts):
                return boundary


def build_message(mail: OutgoingMail, connection: BaseEmailBackend | None = None) -> OutboxMessage:
    """The message for one outbox row: From the organisation, with the row's Message-ID; its
    envelope sender is the mail's own return path when a bounce address is set (verp.py)."""
    headers = {**mail.headers, "Message-ID": mail.message_id, "From": sender_address()}
    if mail.language:
        headers["Content-Language"] = mail.language
    envelope_sender = verp.return_path(mail.pk, mail.to) if mail.pk else None
    message = OutboxMessage(
        subject=mail.subject,
        body=mail.text_body,
        # Django gives the SMTP server from_email as the envelope sender (MAIL FROM) and the
        # From header from headers["From"]: bounces go to the former, readers see the latter.
        from_email=envelope_sender or headers["From"],
        to=[mail.to],
        headers=headers,
        connection=connection,
    )
    # Read once per batch: looking for the key file was a syscall and an exception per mail.
    message.dkim_key = for_the_batch("dkim_key", signing.private_key)
    if mail.html_body:
        message.attach_alternative(mail.html_body, "text/html")
    return message


def describe_error(error: BaseException, mail: OutgoingMail) -> str:
    """The exception's class and message, without the recipient's address, truncated."""
    return without_addresses(f"{type(error).__name__}: {error}", mail.to)[:ERROR_MAX_LENGTH]


def send_pending(
    mail_id: int,
    *,
    now: datetime | None = None,
    connection: BaseEmailBackend | None = None,
    batch: SendBatch | None = None,
) -> SendOutcome:
    """Send one mail if it is pending and due; return what happened (SENT, RETRY, FAILED,
    RATE_LIMITED or NOT_CLAIMED).

    With ``connection`` (a mail backend from ``get_connection``), the mail goes over it and it
    stays open for the caller's next mail; after a failure it is closed, and the next send
    opens it again. Without one, a connection is opened for this mail and closed after it.
    With ``batch`` (``send_due_mail``'s), the row and whether its address is suppressed come from
    the batch's reads instead of a query each."""
    now = now or timezone.now()
    read = batch.rows.get(mail_id) if batch is not None else None
    # With a send limit, only a mail that can be claimed takes a slot; without one, the claim
    # alone says whether the mail is pending and due.
    limited = app_settings.RATE_PER_MINUTE > 0
    if limited:
        if read is not None:
            address: str | None = read.to
        else:
            address = (
                OutgoingMail.objects.filter(pk=mail_id, status=Status.PENDING, next_attempt_at__lte=now)
                .values_list("to", flat=True)
                .first()
            )
        if address is None:
            return NOT_CLAIMED
        # Before the send limit: a mail that will not be sent must not take a slot.
        if _settle_if_suppressed(mail_id, address, Status.PENDING, batch):
            return SUPPRESSED
    if limited and not take_rate_slot(now):
        next_minute = datetime.fromtimestamp((int(now.timestamp()) // 60 + 1) * 60, tz=now.tzinfo)
        OutgoingMail.objects.filter(pk=mail_id, status=Status.PENDING).update(next_attempt_at=next_minute)
        return RATE_LIMITED
    if not claim(mail_id, now, batch):
        return NOT_CLAIMED
    # The row read for the batch is the row claimed: the claim takes only a mail still pending
    # and due at the batch's time, and nothing rewrites a pending mail (a take-back deletes it).
    mail = read if read is not None else OutgoingMail.objects.get(pk=mail_id)
    if not limited and _settle_if_suppressed(mail_id, mail.to, Status.SENDING, batch):
        return SUPPRESSED
    own_connection = connection is None
    backend = get_connection(fail_silently=False) if connection is None else connection
    try:
        # The connection is opened here (a no-op when it is open), not by send(), so the row
        # says "sent" as soon as the server has accepted the message, before the QUIT round
        # trip: a crash in between would otherwise send it again.
        backend.open()
        sent = backend.send_messages([build_message(mail, connection=backend)])
        if not sent:
            raise RuntimeError("The mail backend accepted no message.")
    except Exception as error:
        _close_quietly(backend)
        return record_failure(mail, error, now=timezone.now())
    if batch is not None:
        # Written with the next mail's claim, or when the batch ends (``SendBatch.mark_sent``):
        # nothing but choosing the next mail comes between.
        batch.mark_sent()
        batch.unmarked = (mail.pk, Status.SENDING, sent_changes(mail))
    else:
        update_mail(mail.pk, Status.SENDING, sent_changes(mail))
    if own_connection:
        _close_quietly(backend)
    return SENT


class SendBatch:
    """What ``send_due_mail`` reads once for a batch of mails: the rows, and the suppressions of
    their addresses (a suppression recorded while the batch is sent, seconds, counts from the
    next batch)."""

    def __init__(self, rows: list[OutgoingMail]):
        self.rows = {row.pk: row for row in rows}
        addresses = {row.to.strip().lower() for row in rows}
        self.suppressions = {row.address: row for row in Suppression.objects.filter(address__in=addresses)}
        # The sent mark of the mail sent last, not written yet: (id, status, changes).
        self.unmarked: tuple[int, str, dict[str, Any]] | None = None

    def mark_sent(self) -> None:
        """Write the sent mark still waiting, if any."""
        if self.unmarked is not None:
            marked, self.unmarked = self.unmarked, None
            update_mail(*marked)


def _settle_if_suppressed(mail_id: int, address: str, status: str, batch: SendBatch | None = None) -> bool:
    """Mark the mail failed, never to be retried, when its address is suppressed (a hard bounce,
    a complaint, repeated soft bounces). Its recipient is told nothing."""
    key = address.strip().lower()
    if batch is not None:
        suppression = batch.suppressions.get(key)
    else:
        suppression = Suppression.objects.filter(address=key).first()
    if suppression is None:
        return False
    OutgoingMail.objects.filter(pk=mail_id, status=status).update(
        status=Status.FAILED,
        claimed_at=None,
        last_error=f"Not sent: the address is suppressed ({suppression.get_reason_display()}).",
    )
    logger.info("Outgoing mail %s not sent: its address is suppressed", mail_id)
    return True


def _close_quietly(connection: BaseEmailBackend) -> None:
    try:
        connection.close()
    except Exception:  # the message's fate is already recorded; a failing QUIT changes nothing
        logger.debug("Closing the mail connection failed", exc_info=True)


def permanent_refusal(error: BaseException) -> str | None:
    """The mail server's reply when it refused this mail for good: a 5xx to the recipient (RCPT)
    or to the message (DATA). A 5xx to our own sender address (MAIL FROM) is not one: that is our
    configuration, the same for every mail, and retrying gives the admin time to fix it."""
    replies: list[tuple[int, bytes | str]] = []
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        replies = list(error.recipients.values())
    elif isinstance(error, smtplib.SMTPDataError):
        replies = [(error.smtp_code, error.smtp_error)]
    if not replies or not all(500 <= code < 600 for code, _ in replies):
        return None
    code, text = replies[0]
    return f"{code} {text.decode('utf-8', 'replace') if isinstance(text, bytes) else text}"


def record_failure(mail: OutgoingMail, error: BaseException, *, now: datetime) -> SendOutcome:
    attempts = mail.attempts + 1
    changes: dict[str, Any] = {"attempts": attempts, "claimed_at": None, "last_error": describe_error(error, mail)}
    refusal = permanent_refusal(error)
    if refusal is not None:
        # Final: the same request would get the same answer. Counted like a bounce saying so.
        changes["status"] = Status.FAILED
        OutgoingMail.objects.filter(pk=mail.pk, status=Status.SENDING).update(**changes)
        bounces.record_refusal(mail.to, mail.pk, without_addresses(refusal, mail.to))
        logger.warning("Outgoing mail %s refused for good by the mail server", mail.pk)
        return REFUSED
    if now - mail.created_at >= timedelta(seconds=app_settings.RETRY_FOR_SECONDS):
        changes["status"] = Status.FAILED
        outcome = FAILED
        logger.warning("Outgoing mail %s failed after %s attempts: %s", mail.pk, attempts, type(error).__name__)
    else:
        changes["status"] = Status.PENDING
        changes["next_attempt_at"] = now + retry_delay(attempts)
        outcome = RETRY
        logger.info("Outgoing mail %s not sent (%s); retrying later", mail.pk, type(error).__name__)
    OutgoingMail.objects.filter(pk=mail.pk, status=Status.SENDING).update(**changes)
    return outcome


def release_stale_claims(now: datetime) -> int:
    """Put mails back to pending whose worker died mid-send (claimed too long ago)."""
    cutoff = now - timedelta(seconds=app_settings.CLAIM_TIMEOUT_SECONDS)
    return OutgoingMail.objects.filter(status=Status.SENDING, claimed_at__lt=cutoff).update(
        status=Status.PENDING, claimed_at=None, next_attempt_at=now
    )


@one_batch()  # the sender's name and address are read once per run, not per mail
def send_due_mail(now: datetime | None = None, *, until_empty: bool = False) -> dict[str, int]:
    """Release stale claims, then send due pending mails, oldest due first, over one connection
    to the mail server (a connection per mail costs a TLS handshake each, and some servers
    limit how often one may connect).

    Sends up to ``SWEEP_BATCH`` mails, or with ``until_empty`` batch after batch while full
    ones go out. Stops at the send limit, and at a failure on a fresh connection: the server is
    probably down, and the remaining mails are simply tried on the next sweep (each attempt may
    wait EMAIL_TIMEOUT). A failure on a connection that has already carried mail (the server
    may have closed it) is retried on a new connection with the next mail."""
    now = now or timezone.now()
    counts = {"released": release_stale_claims(now), SENT: 0, RETRY: 0, FAILED: 0, SUPPRESSED: 0, REFUSED: 0}
    connection = get_connection(fail_silently=False)
    try:
        while True:
            due = OutgoingMail.objects.filter(status=Status.PENDING, next_attempt_at__lte=now).order_by(
                "next_attempt_at", "pk"
            )
            rows = list(due[: app_settings.SWEEP_BATCH])
            batch = SendBatch(rows)
            sent_on_connection = 0
            stopped = False
            try:
                for mail_id in batch.rows:
                    outcome = send_pending(mail_id, now=now, connection=connection, batch=batch)
                    if outcome in counts:
                        counts[outcome] += 1
                    if outcome == SENT:
                        sent_on_connection += 1
                    elif outcome == REFUSED or (outcome in (RETRY, FAILED) and sent_on_connection):
                        # send_pending closed it; the next mail opens a new one. A refusal of one
                        # recipient says the server is up: the rest are still sent.
                        sent_on_connection = 0
                    elif outcome in (RATE_LIMITED, RETRY, FAILED):
                        stopped = True
                        break
            finally:
                batch.mark_sent()  # the last mail sent, whatever ended the batch
            if stopped or not until_empty or len(rows) < app_settings.SWEEP_BATCH:
                return counts
            now = timezone.now()
    finally:
        _close_quietly(connection)


def retry_now(mail_ids: Iterable[int]) -> int:
    """Put failed and pending mails back to pending, due now, and enqueue them (the admin's
    "Retry now"). A failed mail gets one more attempt; returns how many were re-queued."""
    count = OutgoingMail.objects.filter(pk__in=mail_ids, status__in=[Status.PENDING, Status.FAILED]).update(
        status=Status.PENDING, next_attempt_at=timezone.now()
    )
    if count:
        schedule_send()
    return count
