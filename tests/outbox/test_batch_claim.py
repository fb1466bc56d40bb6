"""Without a send limit, a batch of due mails is claimed whole (two statements for the batch
instead of a claim per mail); what the batch does not try goes back to the queue at once."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from speakout.outbox import services
from speakout.outbox.models import OutgoingMail
from speakout.outbox.services import queue_mail, send_due_mail

pytestmark = pytest.mark.django_db

Status = OutgoingMail.Status


@pytest.fixture(autouse=True)
def _no_send_limit(settings):
    settings.SPEAKOUT_EMAIL_RATE_PER_MINUTE = 0


def queue(count: int, prefix: str = "reader") -> list[int]:
    return [queue_mail(f"{prefix}-{number}@example.org", "Subject", "Text").pk for number in range(count)]


def test_sending_a_claimed_batch_costs_one_statement_per_mail(mailoutbox):
    """The mark "sent" (what keeps a mail from going out twice); the claim is the batch's."""

    def statements_to_send(count: int) -> int:
        queue(count, prefix=f"reader-{count}")
        with CaptureQueriesContext(connection) as statements:
            send_due_mail()
        return len(statements.captured_queries)

    two, five = statements_to_send(2), statements_to_send(5)
    assert len(mailoutbox) == 7
    assert five - two == 3
    assert OutgoingMail.objects.filter(status=Status.SENT).count() == 7


def test_a_claimed_batch_is_not_sent_by_another_worker(mailoutbox):
    queue(3)
    due = OutgoingMail.objects.filter(status=Status.PENDING).order_by("next_attempt_at", "pk")
    claimed = services.claim_batch(due, timezone.now())
    assert len(claimed) == 3 and all(row.status == Status.SENDING for row in claimed)
    assert send_due_mail()[services.SENT] == 0
    assert mailoutbox == []
    assert set(OutgoingMail.objects.values_list("status", flat=True)) == {Status.SENDING}


def test_a_failure_on_a_fresh_connection_puts_the_rest_of_the_batch_back_at_once(failing_backend):
    first, *rest = queue(3)
    counts = send_due_mail()
    assert counts[services.RETRY] == 1
    retried = OutgoingMail.objects.get(pk=first)
    assert (retried.status, retried.attempts) == (Status.PENDING, 1)
    # Not tried: pending again, due now, without waiting for the claim timeout.
    for mail in OutgoingMail.objects.filter(pk__in=rest):
        assert (mail.status, mail.claimed_at, mail.attempts) == (Status.PENDING, None, 0)
        assert mail.next_attempt_at <= timezone.now()


def test_a_batch_claimed_for_half_the_claim_timeout_goes_back_before_the_sweep_takes_it(settings, mailoutbox):
    """A mail is sent only while its claim is well within the timeout after which the sweep
    hands a "sending" mail to another worker (which would send it twice)."""
    settings.SPEAKOUT_OUTBOX_CLAIM_TIMEOUT_SECONDS = 0
    first, *rest = queue(3)
    assert send_due_mail()[services.SENT] == 1  # a batch always sends its first mail
    assert OutgoingMail.objects.get(pk=first).status == Status.SENT
    assert set(OutgoingMail.objects.filter(pk__in=rest).values_list("status", "claimed_at")) == {(Status.PENDING, None)}
    settings.SPEAKOUT_OUTBOX_CLAIM_TIMEOUT_SECONDS = 600
    assert send_due_mail()[services.SENT] == 2
    assert len(mailoutbox) == 3


def test_an_error_mid_batch_puts_the_untried_mails_back(monkeypatch, mailoutbox):
    first, second, third = queue(3)
    send = services._send_claimed

    def fail_on_the_second(mail, *args, **kwargs):
        if mail.pk == second:
            raise RuntimeError("the worker broke")
        return send(mail, *args, **kwargs)

    monkeypatch.setattr(services, "_send_claimed", fail_on_the_second)
    with pytest.raises(RuntimeError):
        send_due_mail()
    statuses = dict(OutgoingMail.objects.values_list("pk", "status"))
    # The mail being sent stays claimed (the claim timeout frees it, as after a crash).
    assert statuses == {first: Status.SENT, second: Status.SENDING, third: Status.PENDING}
