"""Bounces and complaints: read a returned mail, find the outbox mail it belongs to, suppress.

A mail server sends a delivery status notification (RFC 3464) to a mail's envelope sender, which
names the mail (``verp.py``); a mailbox provider's feedback loop sends a complaint report (ARF,
RFC 5965) with the original mail attached, whose Return-Path names it too. Both are parsed with
the standard library's ``email`` package: the reports are structured header blocks, and the mail
they are about is known from the signed return path, never from an address written in the
report, so nobody can suppress someone else's address by writing a bounce about it.

- a complaint, or a permanent failure of the address itself, suppresses the address at once;
- any other failure counts as a soft bounce: three (of different mails, within
  ``SOFT_BOUNCE_DAYS``) suppress it. Permanent failures that are about the message or the
  sender rather than the address (a full mailbox, a message too big, a policy or spam block of
  our server) are soft: suppressing every reader because our server got on a block list would
  lose them all;
- delay notices, delivery reports, auto-replies and anything else that is neither a DSN nor an
  ARF report change nothing.

The address's owner is told nothing.
"""

from __future__ import annotations

import enum
import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import Message
from email.utils import parseaddr

from django.db import IntegrityError, transaction
from django.utils import timezone

from speakout.theme.logging import mask_addresses

from . import verp
from .app_settings import app_settings
from .models import OutgoingMail, SoftBounce, Suppression

logger = logging.getLogger("speakout.outbox.bounces")

DETAIL_MAX_LENGTH = 500
_TOKEN_LIKE = re.compile(r"\+m[0-9a-f]{1,16}-[0-9a-f]{8,}", re.IGNORECASE)
# Headers the delivering server writes with the address a message was delivered to (Postfix:
# X-Original-To and Delivered-To; Exim: Envelope-To), then To (a DSN is addressed to the
# envelope sender it returns to).
RECIPIENT_HEADERS = ("X-Original-To", "Delivered-To", "Envelope-To", "To")
_STATUS = re.compile(r"^\s*([245])\.(\d{1,3})\.(\d{1,3})")
# Permanent failures that say the address is gone: bad mailbox or domain (X.1.x), mailbox
# disabled (X.2.1).
HARD_STATUS_SUBJECTS = {"1"}
HARD_STATUSES = {"5.2.1"}
# Feedback types that are not complaints (RFC 5965, 6650).
NOT_COMPLAINTS = {"not-spam"}


class Kind(enum.StrEnum):
    HARD = "hard"
    SOFT = "soft"
    COMPLAINT = "complaint"
    NOT_A_BOUNCE = "not_a_bounce"  # a delay notice, an auto-reply, a report of success
    UNKNOWN_MAIL = "unknown_mail"  # no valid return path, or the mail is gone and its address unproved


@dataclass(frozen=True)
class Report:
    kind: Kind
    detail: str = ""


@dataclass(frozen=True)
class Outcome:
    kind: Kind
    mail_id: int | None = None
    suppressed: bool = False


# Plain-text bounces (no RFC 3464 report), as qmail and Exim (and servers copying its wording)
# write them: how they begin, the words that make the failure final, and the line after which the
# returned message is copied (its words are not the server's).
PLAIN_OPENINGS = (
    "this is the qmail-send program",
    "this message was created automatically by mail delivery software",
)
_PLAIN_PERMANENT = re.compile(r"this is a permanent error|could not be delivered to one or more", re.IGNORECASE)
_PLAIN_COPY = re.compile(r"^-{2,}\s*(below this line is a copy|this is a copy of the message)", re.IGNORECASE | re.M)
_ENHANCED_STATUS = re.compile(r"(?<![\d.])([245]\.\d{1,3}\.\d{1,3})(?![\d.])")
_DAEMONS = {"mailer-daemon", "postmaster"}
PLAIN_TEXT_MAX = 200_000


def classify(message: Message) -> Report:
    """What a returned message says: a hard or soft bounce, a complaint, or none of these."""
    if message.get_content_type() != "multipart/report":
        return _plain_text(message)
    report_type = str(message.get_param("report-type", "") or "").lower()
    if report_type == "feedback-report":
        return _feedback(message)
    if report_type == "delivery-status":
        return _delivery_status(message)
    return Report(Kind.NOT_A_BOUNCE)


def _text(message: Message) -> str:
    """The text/plain parts of a message, decoded (the first ``PLAIN_TEXT_MAX`` characters)."""
    texts = []
    for part in message.walk():
        if part.get_content_type() == "text/plain" and not part.is_multipart():
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                texts.append(payload.decode(part.get_content_charset() or "utf-8", "replace"))
    return "\n".join(texts)[:PLAIN_TEXT_MAX]


def _plain_text(message: Message) -> Report:
    """A failure notice written as plain text, recognised only when a mail server sent it (from
    the mailer daemon or with the null return path), it opens with the words of one of the common
    servers, and it says the failure is final. Delay warnings say no such thing."""
    sender = parseaddr(str(message.get("From", "")))[1].partition("@")[0].lower()
    null_path = str(message.get("Return-Path", "")).strip() == "<>"
    if sender not in _DAEMONS and not null_path:
        return Report(Kind.NOT_A_BOUNCE)
    text = _text(message)
    notice = _PLAIN_COPY.split(text, maxsplit=1)[0]
    opening = " ".join(notice.split()).lower()[:300]
    if not any(words in opening for words in PLAIN_OPENINGS) or not _PLAIN_PERMANENT.search(notice):
        return Report(Kind.NOT_A_BOUNCE)
    for line in notice.splitlines():
        match = _ENHANCED_STATUS.search(line)
        if match and match.group(1).startswith("5"):
            return Report(_failure_kind(match.group(1)), _clip(" ".join(line.split())))
    return Report(Kind.SOFT, _clip("A plain-text failure notice without a status code"))


def _message_id_reference(message: Message) -> int | None:
    """The outbox mail whose Message-ID the returned copy in a bounce carries. A Message-ID is
    random, so only that mail's recipient could write it, and the address is the mail's own."""
    texts = [_text(message)]
    for part in message.walk():
        if part.get_content_type() == "text/rfc822-headers":
            texts.append(str(part.get_payload(decode=True) or b"", "utf-8", "replace"))
        elif part.get_content_type() == "message/rfc822":
            for original in part.get_payload() or []:
                if isinstance(original, Message):
                    texts.append(f"Message-ID: {original.get('Message-ID', '')}")
    ids = re.findall(r"^message-id:\s*(<[^<>\s]{1,250}>)", "\n".join(texts), re.IGNORECASE | re.M)
    if not ids:
        return None
    return OutgoingMail.objects.filter(message_id__in=ids[:10]).values_list("pk", flat=True).first()


def _parts(message: Message, content_type: str) -> list[Message]:
    return [part for part in message.walk() if part.get_content_type() == content_type]


def _feedback(message: Message) -> Report:
    for part in _parts(message, "message/feedback-report"):
        fields = _fields(part)
        feedback_type = fields.get("feedback-type", "").strip().lower()
        if feedback_type and feedback_type not in NOT_COMPLAINTS:
            source = fields.get("user-agent", "") or fields.get("reporting-mta", "")
            return Report(Kind.COMPLAINT, _clip(f"Feedback-Type: {feedback_type}; {source}".strip("; ")))
    return Report(Kind.NOT_A_BOUNCE)


def _fields(part: Message) -> dict[str, str]:
    """The header fields of a message/feedback-report part, however the parser stored them."""
    payload = part.get_payload()
    if isinstance(payload, list):
        blocks: list[Message] = payload
    else:
        blocks = [message_from_bytes(str(payload).encode("utf-8", "replace"), policy=policy.default)]
    fields: dict[str, str] = {}
    for block in blocks:
        for name, value in block.items():
            fields.setdefault(name.lower(), str(value))
    return fields


def _recipient_blocks(message: Message) -> list[Message]:
    """The per-recipient field blocks of a DSN's delivery-status parts (each part's first block
    is per-message)."""
    payloads = [part.get_payload() for part in _parts(message, "message/delivery-status")]
    return [block for payload in payloads if isinstance(payload, list) for block in payload[1:]]


def _delivery_status(message: Message) -> Report:
    failures: list[Report] = []
    for block in _recipient_blocks(message):
        if str(block.get("Action", "")).strip().lower() != "failed":
            continue  # delayed, delivered, relayed, expanded: not a bounce
        status = str(block.get("Status", "")).strip()
        diagnostic = " ".join(str(block.get("Diagnostic-Code", "")).split())
        failures.append(Report(_failure_kind(status), _clip(f"{status} {diagnostic}".strip())))
    if not failures:
        return Report(Kind.NOT_A_BOUNCE)
    return next((report for report in failures if report.kind == Kind.HARD), failures[0])


def _failure_kind(status: str) -> Kind:
    match = _STATUS.match(status)
    if match is None:
        return Kind.SOFT
    klass, subject, detail = match.groups()
    if klass == "5" and (subject in HARD_STATUS_SUBJECTS or f"5.{subject}.{detail}" in HARD_STATUSES):
        return Kind.HARD
    return Kind.SOFT


def without_addresses(text: str, recipient: str) -> str:
    """A mail server's words as kept: the recipient, in whatever case the server quotes it, as
    ``<recipient>``, and any other address as the logs mask it (one it forwards to, one in another
    spelling): the row outlives the mail, and "forget me" looks for the address, not its echoes."""
    if recipient:
        text = re.sub(re.escape(recipient), "<recipient>", text, flags=re.IGNORECASE)
    return mask_addresses(text)


def _clip(text: str) -> str:
    return text[:DETAIL_MAX_LENGTH]


def _signed(message: Message, envelope_recipients: tuple[str, ...]) -> list[tuple[int, str]]:
    """Every signed return path the returned message carries, as (mail id, recipient tag): the
    envelope recipient (the listener knows it), the headers the delivering server wrote, or, in a
    complaint report, its Original-Mail-From or the Return-Path of the mail it carries."""
    candidates = list(envelope_recipients)
    for name in RECIPIENT_HEADERS:
        candidates.extend(str(value) for value in message.get_all(name, []))
    for part in message.walk():
        if part.get_content_type() == "text/rfc822-headers":
            candidates.append(str(part.get_payload(decode=True) or b"", "utf-8", "replace"))
        elif part.get_content_type() == "message/feedback-report":
            candidates.append(_fields(part).get("original-mail-from", ""))
        elif part.get_content_type() == "message/rfc822":
            for original in part.get_payload() or []:
                if isinstance(original, Message):
                    candidates.extend(str(value) for value in original.get_all("Return-Path", []))
    return [token for candidate in candidates for token in verp.signed(candidate)]


def claimed_recipients(message: Message) -> list[str]:
    """The addresses a report says failed or complained: a DSN's Final- and Original-Recipient
    fields, a complaint's Original-Rcpt-To or the To of the mail it carries. Never believed
    alone: only an address the return path's recipient tag confirms counts (``_purged_address``)."""
    addresses: list[str] = []
    for block in _recipient_blocks(message):
        for name in ("Final-Recipient", "Original-Recipient"):
            addresses.append(str(block.get(name, "")).partition(";")[2])
    for part in _parts(message, "message/feedback-report"):
        addresses.append(_fields(part).get("original-rcpt-to", ""))
    for part in _parts(message, "message/rfc822"):
        for original in part.get_payload() or []:
            if isinstance(original, Message):
                addresses.extend(str(value) for value in original.get_all("To", []))
    return [parseaddr(address)[1].strip() for address in addresses if parseaddr(address)[1].strip()]


def _purged_address(message: Message, tokens: list[tuple[int, str]], mail_id: int) -> str | None:
    """The address a mail no longer in the outbox went to: the one the report names, if the
    mail's return path signs it."""
    tags = {tag for found, tag in tokens if found == mail_id and tag}
    for address in claimed_recipients(message):
        if any(verp.is_recipient(mail_id, tag, address) for tag in tags):
            return address
    return None


def process(raw: bytes, envelope_recipients: tuple[str, ...] = ()) -> Outcome:
    """Read one returned message and act on it. Safe to run twice on the same message."""
    message = message_from_bytes(raw, policy=policy.default)
    report = classify(message)
    if report.kind == Kind.NOT_A_BOUNCE:
        return Outcome(Kind.NOT_A_BOUNCE)
    tokens = _signed(message, envelope_recipients)
    found = tokens[0][0] if tokens else None
    if found is None and not _TOKEN_LIKE.search(raw.decode("ascii", "replace")):
        # No return path of ours at all (a server that bounced to the bare address): the mail's
        # Message-ID. One with a wrong tag is a forgery and gets no second chance.
        found = _message_id_reference(message)
    address = OutgoingMail.objects.filter(pk=found).values_list("to", flat=True).first() if found is not None else None
    if address is None and found is not None:
        # Purged since it was sent (SPEAKOUT_SENT_MAIL_DAYS): the return path still says to whom.
        address = _purged_address(message, tokens, found)
    if address is None:
        logger.info("A %s report names no mail the outbox knows; ignored", report.kind)
        return Outcome(Kind.UNKNOWN_MAIL, found)
    address = address.strip().lower()
    detail = without_addresses(report.detail, address)
    if report.kind == Kind.SOFT:
        return Outcome(Kind.SOFT, found, _soft_bounce(address, found, detail))
    reason = Suppression.Reason.COMPLAINT if report.kind == Kind.COMPLAINT else Suppression.Reason.HARD_BOUNCE
    suppress(address, reason, detail)
    return Outcome(report.kind, found, True)


def record_refusal(address: str, mail_id: int, reply: str) -> bool:
    """The mail server refused a mail for good as it was sent (a 5xx reply, ``reply`` with its
    enhanced status code when it gave one): the same as a bounce saying so. True if the address
    is now suppressed."""
    address = address.strip().lower()
    detail = _clip(" ".join(reply.split()))
    status = detail.partition(" ")[2]
    if _failure_kind(status) == Kind.HARD:
        suppress(address, Suppression.Reason.HARD_BOUNCE, detail)
        return True
    return _soft_bounce(address, mail_id, detail)


def _soft_bounce(address: str, mail_id: int, detail: str) -> bool:
    now = timezone.now()
    with transaction.atomic():
        try:
            with transaction.atomic():
                SoftBounce.objects.create(address=address, mail_id=mail_id, detail=detail, received_at=now)
        except IntegrityError:
            pass  # this mail's bounce was counted already
        since = now - timedelta(days=app_settings.SOFT_BOUNCE_DAYS)
        SoftBounce.objects.filter(received_at__lt=since).delete()
        count = SoftBounce.objects.filter(address=address).count()
        if count < app_settings.SOFT_BOUNCE_LIMIT:
            return False
        suppress(address, Suppression.Reason.SOFT_BOUNCES, detail)
    return True


def suppress(address: str, reason: str, detail: str = "") -> Suppression:
    """Stop all mail to ``address`` (idempotent: an existing suppression keeps its first reason)."""
    suppression, created = Suppression.objects.get_or_create(
        address=address.strip().lower(), defaults={"reason": reason, "detail": _clip(detail)}
    )
    if created:
        logger.info("An address was suppressed (%s)", reason)
    return suppression


def lift(suppression_ids) -> int:
    """Lift suppressions (the admin's "Lift"): mail goes to those addresses again, and their soft
    bounces start counting from zero. Returns how many were lifted."""
    with transaction.atomic():
        addresses = list(Suppression.objects.filter(pk__in=suppression_ids).values_list("address", flat=True))
        SoftBounce.objects.filter(address__in=addresses).delete()
        Suppression.objects.filter(address__in=addresses).delete()
    return len(addresses)
