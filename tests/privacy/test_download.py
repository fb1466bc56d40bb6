"""The download of "Manage my replies" holds every row about the address, beyond the replies and
subscriptions: the mail sent or waiting for it, the requests for the page's link, and what the
mail server said of it (soft bounces, a suppression); never a secret that acts on the data."""

from __future__ import annotations

import json

import pytest
from django.db import transaction

from speakout.outbox import bounces
from speakout.outbox.models import OutgoingMail, Suppression
from speakout.outbox.services import queue_mail, send_due_mail
from speakout.privacy.models import ManageRequest
from tests.privacy.helpers import EMAIL, mails_to

pytestmark = pytest.mark.django_db

OTHER = "other@example.org"


def _sent(to, subject):
    with transaction.atomic():
        mail = queue_mail(to, subject, f"Body of {subject}", "")
    send_due_mail()
    mail.refresh_from_db()
    assert mail.status == OutgoingMail.Status.SENT
    return mail


def test_the_download_holds_the_address_s_mail_link_requests_and_bounces(thread, reply_as, manage_link, client):
    reply_as(thread)
    sent = _sent(EMAIL.upper(), "A mail that went out")
    bounces.record_refusal(EMAIL, sent.pk, "452 4.2.2 Mailbox full")
    bounces.suppress(EMAIL, Suppression.Reason.COMPLAINT, "marked as spam")
    other_mail = _sent(OTHER, "Someone else's mail")
    bounces.record_refusal(OTHER, other_mail.pk, "452 4.2.2 Mailbox full")
    bounces.suppress(OTHER, Suppression.Reason.HARD_BOUNCE)
    ManageRequest.objects.create(email=OTHER)
    path = manage_link()
    link_mail = mails_to(EMAIL)[-1]
    assert link_mail.status == OutgoingMail.Status.FAILED  # suppressed: it never leaves
    with transaction.atomic():
        queue_mail(EMAIL, "A mail still waiting", "Body of the waiting mail", "")

    response = client.get(f"{path}export.json")

    assert response.status_code == 200
    data = json.loads(response.content)
    assert [(mail["to"], mail["subject"], mail["status"]) for mail in data["mail"]] == [
        (EMAIL.upper(), "A mail that went out", "sent"),
        (EMAIL, link_mail.subject, "failed"),
        (EMAIL, "A mail still waiting", "pending"),
    ]
    assert data["mail"][0]["sent_at"] == sent.sent_at.isoformat()
    assert [request["email"] for request in data["manage_link_requests"]] == [EMAIL]
    assert [(bounce["address"], bounce["detail"]) for bounce in data["soft_bounces"]] == [
        (EMAIL, "452 4.2.2 Mailbox full")
    ]
    assert [(row["address"], row["reason"], row["detail"]) for row in data["suppressions"]] == [
        (EMAIL, "complaint", "marked as spam")
    ]
    text = response.content.decode()
    assert OTHER not in text
    request = ManageRequest.objects.get(email=EMAIL)
    assert request.secret not in text, "the link's key is not handed on"
    assert path.strip("/").rsplit("/", 1)[-1] not in text
    assert "Body of" not in text and "/privacy/my-replies/" not in text, "no mail body, no working link"


def test_a_signed_in_download_holds_the_mail_to_the_account_s_verified_addresses(client, django_user_model):
    from tests.privacy.test_manage_account import verify

    member = django_user_model.objects.create_user("sam", "sam@example.org", "a long password")
    verify(member, "sam@example.org")
    _sent("Sam@Example.org", "Your answer")
    _sent(OTHER, "Not yours")
    client.force_login(member)

    data = json.loads(client.get("/privacy/my-data/export.json").content)

    assert [(mail["to"], mail["subject"]) for mail in data["mail"]] == [("Sam@Example.org", "Your answer")]
    assert data["manage_link_requests"] == [] and data["soft_bounces"] == [] and data["suppressions"] == []
