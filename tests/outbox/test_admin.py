"""The "Mail outbox" screen in the Wagtail admin."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from speakout.outbox.models import OutgoingMail
from speakout.outbox.services import queue_mail

pytestmark = pytest.mark.django_db

Status = OutgoingMail.Status
HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'


def outbox_url(status: str = "") -> str:
    url = reverse("speakout_outbox:index")
    return f"{url}?status={status}" if status else url


def failed_mail(subject: str = "Weekly digest") -> OutgoingMail:
    mail = queue_mail("ada@example.org", subject, "Text")
    OutgoingMail.objects.filter(pk=mail.pk).update(
        status=Status.FAILED, attempts=15, last_error="SMTPServerDisconnected: Connection unexpectedly closed"
    )
    return mail


def test_failed_mail_is_listed_with_its_error(admin_client):
    failed_mail()
    response = admin_client.get(outbox_url("failed"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Weekly digest" in html
    assert "SMTPServerDisconnected: Connection unexpectedly closed" in html
    assert "ada@example.org" in html
    assert "Retry now" in html


def test_waiting_and_sent_tabs(admin_client):
    queue_mail("ada@example.org", "Still waiting", "Text")
    sent = queue_mail("bob@example.org", "Already sent", "Text")
    OutgoingMail.objects.filter(pk=sent.pk).update(status=Status.SENT, sent_at=timezone.now())
    waiting = admin_client.get(outbox_url()).content.decode()
    assert "Still waiting" in waiting and "Already sent" not in waiting
    sent_page = admin_client.get(outbox_url("sent")).content.decode()
    assert "Already sent" in sent_page and "Still waiting" not in sent_page
    assert "Retry now" not in sent_page


def test_retry_now_requeues_and_sends_a_failed_mail(admin_client, django_capture_on_commit_callbacks, mailoutbox):
    """ "Retry now" (a POST) puts the mail back to pending, due now, and enqueues it."""
    mail = failed_mail()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client.post(outbox_url("failed"), {"retry": str(mail.pk)})
    assert response.status_code == 302
    mail.refresh_from_db()
    assert mail.status == Status.PENDING
    assert mail.next_attempt_at <= timezone.now()
    assert len(callbacks) == 1
    callbacks[0]()
    mail.refresh_from_db()
    assert mail.status == Status.SENT
    assert len(mailoutbox) == 1


def test_bulk_retry_skips_sent_mail(admin_client, django_capture_on_commit_callbacks, mailoutbox):
    first, second = failed_mail("One"), failed_mail("Two")
    sent = queue_mail("bob@example.org", "Sent", "Text")
    OutgoingMail.objects.filter(pk=sent.pk).update(status=Status.SENT, sent_at=timezone.now())
    pending = queue_mail("eve@example.org", "Later", "Text")
    OutgoingMail.objects.filter(pk=pending.pk).update(next_attempt_at=timezone.now() + timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        admin_client.post(outbox_url("failed"), {"action": "retry", "ids": [first.pk, second.pk, sent.pk, pending.pk]})
    assert len(callbacks) == 1  # one send task for the three
    statuses = dict(OutgoingMail.objects.values_list("subject", "status"))
    assert statuses == {"One": "pending", "Two": "pending", "Sent": "sent", "Later": "pending"}
    assert OutgoingMail.objects.get(pk=pending.pk).next_attempt_at <= timezone.now()
    callbacks[0]()
    assert sorted(message.subject for message in mailoutbox) == ["Later", "One", "Two"]


def test_retry_needs_a_post(admin_client):
    mail = failed_mail()
    admin_client.get(outbox_url("failed"), {"retry": str(mail.pk)})
    assert OutgoingMail.objects.get(pk=mail.pk).status == Status.FAILED


def test_hostile_subject_and_error_are_escaped(admin_client):
    mail = failed_mail(HOSTILE)
    OutgoingMail.objects.filter(pk=mail.pk).update(last_error=HOSTILE)
    html = admin_client.get(outbox_url("failed")).content.decode()
    assert "<script>alert(1)" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_outbox_needs_the_permission(client, django_user_model):
    """Wagtail admin access is not enough; change_outgoingmail (or superuser) is."""
    user = django_user_model.objects.create_user(username="editor", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin"))
    client.force_login(user)
    response = client.get(outbox_url())
    assert response.status_code == 302  # Wagtail's "you do not have permission" redirect
    assert reverse("speakout_outbox:index") not in client.get(reverse("wagtailadmin_home")).content.decode()
    failed = failed_mail()
    client.post(outbox_url("failed"), {"retry": str(failed.pk)})
    assert OutgoingMail.objects.get(pk=failed.pk).status == Status.FAILED

    user.user_permissions.add(Permission.objects.get(codename="change_outgoingmail"))
    user = django_user_model.objects.get(pk=user.pk)
    client.force_login(user)
    assert client.get(outbox_url()).status_code == 200


def test_menu_item_under_settings(admin_client):
    html = admin_client.get(reverse("wagtailadmin_home")).content.decode()
    assert reverse("speakout_outbox:index") in html
