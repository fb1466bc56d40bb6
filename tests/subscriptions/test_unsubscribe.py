"""Unsubscribing: the link's GET shows a button and changes nothing, its POST unsubscribes; the
RFC 8058 one-click POST works without a session or CSRF token."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.test import Client

from speakout.subscriptions.models import Subscription
from tests.subscriptions.helpers import link_path, mails_to

pytestmark = pytest.mark.django_db


@pytest.fixture
def notified(thread, post_reply, subscribe):
    subscription = subscribe("ada@example.org", thread=thread)
    post_reply(thread, email="bob@example.org")
    [mail] = mails_to("ada@example.org")
    return subscription, mail


def test_every_notification_carries_the_link_and_headers(notified):
    subscription, mail = notified
    header = mail.headers["List-Unsubscribe"]
    assert header.startswith("<http://127.0.0.1:8000/subscriptions/unsubscribe/") and header.endswith(">")
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    path = urlsplit(header[1:-1]).path
    assert link_path(mail.text_body, "unsubscribe") == path
    assert path in mail.html_body


def test_unsubscribe_by_link_get_then_post(notified):
    subscription, mail = notified
    path = link_path(mail.text_body, "unsubscribe")
    client = Client(enforce_csrf_checks=True)
    page = client.get(path)
    assert page.status_code == 200 and b'<form method="post"' in page.content
    subscription.refresh_from_db()
    assert subscription.unsubscribed_at is None
    assert client.post(path).status_code == 200
    subscription.refresh_from_db()
    assert subscription.unsubscribed_at is not None
    assert client.post(path).status_code == 200  # idempotent
    assert b"already unsubscribed" in client.get(path).content


def test_one_click_post_without_session_or_csrf(notified, thread, post_reply):
    subscription, mail = notified
    path = urlsplit(mail.headers["List-Unsubscribe"][1:-1]).path
    response = Client(enforce_csrf_checks=True).post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    subscription.refresh_from_db()
    assert subscription.unsubscribed_at is not None
    post_reply(thread, email="carol@example.org")
    assert len(mails_to("ada@example.org")) == 1  # nothing more


def test_unsubscribed_address_may_subscribe_again(notified, subscribe, thread):
    subscription, mail = notified
    Client().post(link_path(mail.text_body, "unsubscribe"))
    again = subscribe("ada@example.org", thread=thread, confirmed=False)
    assert again.pk != subscription.pk and Subscription.objects.count() == 2


def test_bad_unsubscribe_token(client):
    assert client.get("/subscriptions/unsubscribe/nonsense/").status_code == 400
    assert client.post("/subscriptions/unsubscribe/nonsense/").status_code == 400


def test_a_mailed_link_survives_a_key_rotation_with_the_old_key_as_a_fallback(notified, settings):
    """``SPEAKOUT_SECRET_KEY_FALLBACKS``: links signed before the rotation still work."""
    subscription, mail = notified
    path = link_path(mail.text_body, "unsubscribe")
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-key-after-rotation-" + "x" * 40
    settings.SECRET_KEY_FALLBACKS = []
    assert Client().get(path).status_code == 400, "without the old key the link is refused"
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert Client().post(path).status_code == 200
    subscription.refresh_from_db()
    assert subscription.unsubscribed_at is not None
