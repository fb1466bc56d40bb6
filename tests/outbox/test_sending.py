"""Sending: the message itself, claims, retries with backoff, the 24-hour rule, crash
recovery, the send limit and the file backend."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from speakout.outbox import jobs, services
from speakout.outbox.models import OutgoingMail
from speakout.outbox.services import queue_mail, send_pending

pytestmark = pytest.mark.django_db

Status = OutgoingMail.Status


def test_message_is_multipart_with_the_stored_message_id(mailoutbox):
    """Text plus an HTML alternative, From the configured sender, the stored Message-ID and
    the whitelisted headers."""
    mail = queue_mail(
        "ada@example.org",
        "Hello <you>",
        "Plain words",
        "<p>HTML words</p>",
        headers={
            "List-Unsubscribe": "<https://example.org/u/abc>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        language="es",
    )
    assert send_pending(mail.pk) == services.SENT
    [sent] = mailoutbox
    message = sent.message()
    assert message["Message-ID"] == mail.message_id
    assert message["From"] == "Speakout <speakout@example.org>"
    assert message["Subject"] == "Hello <you>"
    assert message["List-Unsubscribe"] == "<https://example.org/u/abc>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Content-Language"] == "es"
    assert message.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in message.get_payload()]
    assert parts == ["text/plain", "text/html"]
    assert "Plain words" in message.get_payload()[0].get_payload(decode=True).decode()
    assert "<p>HTML words</p>" in message.get_payload()[1].get_payload(decode=True).decode()


def test_second_claim_of_the_same_attempt_fails(mailoutbox):
    """Two workers that both saw the mail pending: only one claim succeeds, one mail is sent."""
    mail = queue_mail("ada@example.org", "Hello", "Text")
    now = timezone.now()
    assert services.claim(mail.pk, now) is True
    assert services.claim(mail.pk, now) is False
    assert send_pending(mail.pk) == services.NOT_CLAIMED
    assert mailoutbox == []


def test_send_pending_twice_sends_once(mailoutbox):
    mail = queue_mail("ada@example.org", "Hello", "Text")
    assert send_pending(mail.pk) == services.SENT
    assert send_pending(mail.pk) == services.NOT_CLAIMED
    assert len(mailoutbox) == 1


def test_failure_keeps_the_mail_pending_with_backoff(failing_backend):
    """A failed attempt records the error class and message, counts the attempt and waits
    1 minute, then 2, 4... capped at 2 hours."""
    mail = queue_mail("ada@example.org", "Hello", "Text")
    before = timezone.now()
    assert send_pending(mail.pk) == services.RETRY
    mail.refresh_from_db()
    assert mail.status == Status.PENDING
    assert mail.attempts == 1
    assert mail.last_error == "SMTPServerDisconnected: Connection unexpectedly closed"
    assert before + timedelta(seconds=55) < mail.next_attempt_at < before + timedelta(seconds=65)
    assert [services.retry_delay(n).total_seconds() for n in (1, 2, 3, 4, 8, 20)] == [60, 120, 240, 480, 7200, 7200]


def test_failure_after_24_hours_marks_the_mail_failed(failing_backend):
    """Once a day has passed since it was queued, the next failure is the last."""
    mail = queue_mail("ada@example.org", "Hello", "Text")
    OutgoingMail.objects.filter(pk=mail.pk).update(created_at=timezone.now() - timedelta(hours=25), attempts=14)
    assert send_pending(mail.pk) == services.FAILED
    mail.refresh_from_db()
    assert mail.status == Status.FAILED
    assert mail.attempts == 15
    assert "SMTPServerDisconnected" in mail.last_error


def test_failure_within_24_hours_is_retried(failing_backend):
    mail = queue_mail("ada@example.org", "Hello", "Text")
    OutgoingMail.objects.filter(pk=mail.pk).update(created_at=timezone.now() - timedelta(hours=23))
    assert send_pending(mail.pk) == services.RETRY
    mail.refresh_from_db()
    assert mail.status == Status.PENDING


def test_error_does_not_repeat_the_recipient_address(settings):
    settings.EMAIL_BACKEND = "tests.outbox.backends.RefusingBackend"
    mail = queue_mail("ada@example.org", "Hello", "Text")
    send_pending(mail.pk)
    mail.refresh_from_db()
    assert "ada@example.org" not in mail.last_error
    assert "<recipient>" in mail.last_error


def test_error_masks_the_recipient_in_any_case_and_any_other_address(settings):
    """A server's refusal quoting the address in its own case, or naming another (where it
    forwards), keeps no address in the mail's error nor in the bounce it counts."""
    from speakout.outbox.models import SoftBounce, Suppression

    settings.EMAIL_BACKEND = "tests.outbox.backends.RefusingInOtherWordsBackend"
    mail = queue_mail("robin@example.org", "Hello", "Text")
    send_pending(mail.pk)
    mail.refresh_from_db()
    kept = [mail.last_error, *SoftBounce.objects.values_list("detail", flat=True)]
    kept += Suppression.objects.values_list("detail", flat=True)
    assert len(kept) == 2, kept
    for text in kept:
        assert "@" not in text and "robin" not in text.lower(), text
    assert "<recipient>" in mail.last_error and "mailbox unavailable" in mail.last_error


def test_crashed_worker_claim_is_released_and_sent_by_the_sweep(mailoutbox):
    """A mail left "sending" by a worker that died goes back to pending after 10 minutes and
    the sweep sends it once; a fresh claim is left alone."""
    stale = queue_mail("ada@example.org", "Stale", "Text")
    fresh = queue_mail("bob@example.org", "Fresh", "Text")
    now = timezone.now()
    OutgoingMail.objects.filter(pk=stale.pk).update(status=Status.SENDING, claimed_at=now - timedelta(minutes=11))
    OutgoingMail.objects.filter(pk=fresh.pk).update(status=Status.SENDING, claimed_at=now - timedelta(minutes=5))
    jobs.send_due_mail()
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.status == Status.SENT
    assert fresh.status == Status.SENDING
    assert [message.subject for message in mailoutbox] == ["Stale"]
    jobs.send_due_mail()
    assert len(mailoutbox) == 1


def test_sweep_sends_due_mail_and_leaves_later_retries(mailoutbox):
    due = queue_mail("ada@example.org", "Due", "Text")
    later = queue_mail("bob@example.org", "Later", "Text")
    OutgoingMail.objects.filter(pk=later.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=5))
    counts = services.send_due_mail()
    assert counts["sent"] == 1
    assert [message.subject for message in mailoutbox] == ["Due"]
    assert OutgoingMail.objects.get(pk=due.pk).status == Status.SENT
    assert OutgoingMail.objects.get(pk=later.pk).status == Status.PENDING


def test_rate_limit_keeps_extra_mail_pending_until_the_next_minute(settings, mailoutbox):
    """With a limit of 2 a minute, the third mail waits for the next minute, then goes."""
    settings.SPEAKOUT_EMAIL_RATE_PER_MINUTE = 2
    mails = [queue_mail(f"user{n}@example.org", f"Mail {n}", "Text") for n in range(3)]
    now = timezone.now()
    outcomes = [send_pending(mail.pk, now=now) for mail in mails]
    assert outcomes == [services.SENT, services.SENT, services.RATE_LIMITED]
    assert len(mailoutbox) == 2
    waiting = OutgoingMail.objects.get(pk=mails[2].pk)
    assert waiting.status == Status.PENDING
    assert waiting.attempts == 0
    assert now < waiting.next_attempt_at <= now + timedelta(minutes=1)
    # The sweep in the same minute sends nothing more.
    assert services.send_due_mail(now=waiting.next_attempt_at - timedelta(microseconds=1))["sent"] == 0
    # The next minute has its own budget.
    assert services.send_due_mail(now=waiting.next_attempt_at)["sent"] == 1
    assert len(mailoutbox) == 3


def test_file_backend_writes_the_mail_into_the_folder(settings, tmp_path):
    """The embedded default writes each mail as a file a new user can read."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    mail = queue_mail("ada@example.org", "Hello from the outbox", "Plain words", "<p>HTML words</p>")
    assert send_pending(mail.pk) == services.SENT
    files = list((tmp_path / "mail").iterdir())
    assert len(files) == 1
    content = files[0].read_text()
    assert "Subject: Hello from the outbox" in content
    assert f"Message-ID: {mail.message_id}" in content
    assert "text/html" in content


def test_scheduled_job_is_registered():
    from speakout.worker import scheduled_jobs

    assert ("send_due_mail", 30, "speakout.outbox.jobs.send_due_mail") in scheduled_jobs()
