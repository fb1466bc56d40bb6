"""The claim and the sent mark of every mail sent (``services.update_mail``) against the ORM's
``filter(...).update(...)`` they replace: the same rows changed, column by column."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from speakout.outbox.models import OutgoingMail
from speakout.outbox.services import queue_mail, update_mail

pytestmark = pytest.mark.django_db

Status = OutgoingMail.Status


def every_column(mail: OutgoingMail) -> dict:
    names = [field.attname for field in OutgoingMail._meta.concrete_fields]
    row = OutgoingMail.objects.filter(pk=mail.pk).values(*names).get()
    return {name: value for name, value in row.items() if name not in ("id", "to", "message_id")}


def two_mails() -> tuple[OutgoingMail, OutgoingMail]:
    reference = queue_mail("ana@example.org", "Hello", "Text", html="<p>Text</p>", language="pt-br")
    lean = queue_mail("bo@example.org", "Hello", "Text", html="<p>Text</p>", language="pt-br")
    OutgoingMail.objects.filter(pk=lean.pk).update(
        created_at=reference.created_at, next_attempt_at=reference.next_attempt_at
    )
    lean.refresh_from_db()
    return reference, lean


def test_the_claim_and_the_sent_mark_write_what_the_orm_writes():
    reference, lean = two_mails()
    now = (timezone.now() + timedelta(seconds=1)).replace(microsecond=123456)
    assert OutgoingMail.objects.filter(pk=reference.pk, status=Status.PENDING, next_attempt_at__lte=now).update(
        status=Status.SENDING, claimed_at=now
    )
    assert update_mail(lean.pk, Status.PENDING, {"status": Status.SENDING, "claimed_at": now}, due=now) == 1
    assert every_column(lean) == every_column(reference)
    sent = {"status": Status.SENT, "sent_at": now, "claimed_at": None, "attempts": 1, "last_error": ""}
    assert OutgoingMail.objects.filter(pk=reference.pk, status=Status.SENDING).update(**sent) == 1
    assert update_mail(lean.pk, Status.SENDING, sent) == 1
    assert every_column(lean) == every_column(reference)
    assert every_column(lean)["status"] == Status.SENT and every_column(lean)["sent_at"] == now


def test_a_sent_mark_carried_by_the_next_claim_writes_what_the_orm_writes():
    """The sweep marks a mail sent with the next mail's claim (one statement on PostgreSQL)."""
    reference, lean = two_mails()
    now = (timezone.now() + timedelta(seconds=1)).replace(microsecond=654321)
    OutgoingMail.objects.filter(pk=reference.pk).update(status=Status.SENDING, claimed_at=now)
    sent = {"status": Status.SENT, "sent_at": now, "claimed_at": None, "attempts": 1, "last_error": ""}
    claim = {"status": Status.SENDING, "claimed_at": now}
    assert update_mail(lean.pk, Status.PENDING, claim, due=now, after=(reference.pk, Status.SENDING, sent)) == 1
    assert every_column(reference)["status"] == Status.SENT and every_column(reference)["sent_at"] == now
    assert every_column(reference)["claimed_at"] is None and every_column(reference)["attempts"] == 1
    assert every_column(lean)["status"] == Status.SENDING and every_column(lean)["claimed_at"] == now
    # The count is the claim's: a mail not pending is not claimed, and the mark is still made.
    OutgoingMail.objects.filter(pk=reference.pk).update(status=Status.SENDING, sent_at=None)
    assert update_mail(lean.pk, Status.PENDING, claim, due=now, after=(reference.pk, Status.SENDING, sent)) == 0
    assert every_column(reference)["status"] == Status.SENT and every_column(reference)["sent_at"] == now


def test_the_claim_takes_only_a_pending_mail_that_is_due():
    _reference, lean = two_mails()
    before = every_column(lean)
    earlier = lean.next_attempt_at - timedelta(seconds=1)
    changes = {"status": Status.SENDING, "claimed_at": timezone.now()}
    assert update_mail(lean.pk, Status.PENDING, changes, due=earlier) == 0  # not due yet
    assert update_mail(lean.pk, Status.SENDING, changes) == 0  # not in that status
    assert update_mail(lean.pk + 1000, Status.PENDING, changes, due=timezone.now()) == 0
    assert every_column(lean) == before
    assert update_mail(lean.pk, Status.PENDING, changes, due=lean.next_attempt_at) == 1  # due at that instant


def test_a_message_chooses_a_boundary_its_bodies_do_not_hold():
    """The boundary ``OutboxMessage`` sets (instead of the email package's search of the
    serialised parts) is in neither body, and the message parses back into its two parts."""
    from email import message_from_bytes

    from speakout.outbox.services import build_message

    text = "--===============0==\n===============\nLines that look like boundaries.\n"
    mail = queue_mail("ana@example.org", "Hello “you”", text, html=f"<pre>{text}</pre>")
    message = build_message(mail).message()
    boundary = message.get_boundary()
    assert boundary and boundary not in text
    parsed = message_from_bytes(message.as_bytes())
    parts = [part.get_payload(decode=True).decode() for part in parsed.walk() if not part.is_multipart()]
    assert parts == [text, f"<pre>{text}</pre>"]


@pytest.mark.parametrize(
    "subject",
    ["Plain words", "New reply to “Two hundred replies”", "Nueva respuesta: «Vivienda» " * 6, "ردود جديدة " * 12],
)
def test_a_subject_is_sent_as_encoded_words_that_read_back_the_same(subject):
    """``encoded_words`` (the subject as the message writes it) reads back as the subject, in
    words no longer than RFC 2047 allows, split between characters."""
    from email import message_from_bytes, policy

    from speakout.outbox.services import build_message, encoded_words

    subject = subject.strip()
    mail = queue_mail("ana@example.org", subject, "Text", html="<p>Text</p>")
    message = build_message(mail)
    parsed = message_from_bytes(message.message().as_bytes(), policy=policy.default)
    assert parsed["Subject"] == subject and message.subject == subject
    assert all(len(word) <= 75 for word in encoded_words(subject).split()) or subject.isascii()


def test_quick_folding_writes_every_header_as_compat32_does():
    """``QuickFolding`` writes a header as it is only where ``compat32`` writes the same; any
    other (long, not ASCII, holding a line break) goes through ``compat32`` itself."""
    import random
    import string
    from email.policy import compat32

    from speakout.outbox.services import QUICK_FOLDING

    def folded(fold, name: str, value: str) -> object:
        try:
            return fold(name, value)
        except Exception as error:  # an embedded header, refused the same way by both
            return repr(error)

    chooser = random.Random(7)
    characters = string.ascii_letters + string.digits + " " * 12 + "\t<>@.,;:\"()=?-_/+'!é“\r\n"
    written_as_is = 0
    for _ in range(4000):
        name = chooser.choice(["Subject", "From", "To", "Message-ID", "List-Unsubscribe", "X-A"])
        value = "".join(chooser.choice(characters) for _ in range(chooser.randint(0, 100)))
        for quick, reference in (
            (QUICK_FOLDING, compat32),
            (QUICK_FOLDING.clone(linesep="\r\n"), compat32.clone(linesep="\r\n")),
        ):
            assert folded(quick.fold_binary, name, value) == folded(reference.fold_binary, name, value)
            assert folded(quick.fold, name, value) == folded(reference.fold, name, value)
            written_as_is += quick._as_is(name, value) is not None
    assert written_as_is > 1000  # the quick way is taken, not only the reference's


def test_a_message_serialises_to_the_bytes_compat32_writes():
    from email.policy import compat32

    from speakout.outbox.services import build_message

    mail = queue_mail(
        "ana@example.org",
        "New reply to “Two hundred replies” " * 3,
        "Text",
        html="<p>Text</p>",
        headers={"List-Unsubscribe": "<https://example.org/unsubscribe/" + "a" * 90 + "/>"},
    )
    message = build_message(mail).message()
    quick = message.as_bytes(linesep="\r\n")
    message.policy = compat32
    assert quick == message.as_bytes(linesep="\r\n")
