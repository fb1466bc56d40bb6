"""End to end through a real SMTP server (the outbox's aiosmtpd fixture): the confirmation and a
reply notification arrive, with working links and the List-Unsubscribe headers."""

from __future__ import annotations

from email import message_from_bytes, policy
from urllib.parse import urlsplit

import pytest
from django.test import Client

from speakout.subscriptions import services
from speakout.subscriptions.models import Subscription

from .conftest import link_path

pytestmark = pytest.mark.django_db(transaction=True)


def received(server):
    return [message_from_bytes(envelope.content, policy=policy.default) for envelope in server.envelopes]


def test_confirmation_and_notification_arrive_with_working_links(smtp_server, thread, post_reply):
    client = Client(enforce_csrf_checks=False)
    services.request_subscription("ada@example.org", kind="thread", thread=thread)
    [confirmation] = received(smtp_server)
    assert confirmation["To"] == "ada@example.org"
    assert confirmation["List-Unsubscribe"] is None
    assert confirmation.get_content_type() == "multipart/alternative"
    text = confirmation.get_body(("plain",)).get_content()
    assert client.post(link_path(text, "confirm")).status_code == 200
    assert Subscription.objects.get().confirmed_at is not None

    assert post_reply(thread, email="bob@example.org", body="Over SMTP").outcome == "published"
    notification = received(smtp_server)[-1]
    assert len(smtp_server.envelopes) == 2
    assert "Over SMTP" in notification.get_body(("plain",)).get_content()
    assert "Over SMTP" in notification.get_body(("html",)).get_content()
    assert notification["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = urlsplit(str(notification["List-Unsubscribe"]).strip().strip("<>")).path
    response = Client(enforce_csrf_checks=True).post(
        unsubscribe, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert Subscription.objects.get().unsubscribed_at is not None
    post_reply(thread, email="carol@example.org", body="Not for Ada")
    assert len(smtp_server.envelopes) == 2
