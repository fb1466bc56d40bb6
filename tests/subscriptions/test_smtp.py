"""End to end through a real SMTP server (the outbox's aiosmtpd fixture): the confirmation and a
reply notification arrive, with working links and the List-Unsubscribe headers."""

from __future__ import annotations

from email import message_from_bytes, policy
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from django.test import Client

from speakout.subscriptions import services
from speakout.subscriptions.models import Subscription
from tests.subscriptions.helpers import link_path

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


def test_a_writers_mails_about_their_own_reply_arrive_over_smtp(smtp_server, thread, rules):
    """A guest posts through the HTML form with both boxes ticked; the reply is held. Over a real
    SMTP server: the one confirmation, "your reply is now published" once approved, the answer,
    then (after the per-thread one-click unsubscribe) nothing more but the removal notice."""
    import uuid

    from speakout.discussion.models import Reply
    from speakout.discussion.services import set_status
    from speakout.outbox.sender import organisation_name
    from tests.discussion.helpers import old_form_token

    rules.hold_first_reply = True
    rules.save()

    def form(**fields):
        return {
            "thread": thread.key,
            "name": "Ada",
            "email": "ada@example.org",
            "body": "Where do the rents go?",
            "form_token": old_form_token(thread.key),
            "submission_id": uuid.uuid4().hex,
            **fields,
        }

    reader = Client()
    response = reader.post("/discussion/post/", form(notify_answers=["0", "1"], notify_outcome=["0", "1"]))
    assert response.status_code == 303
    mine = Reply.objects.get()
    assert mine.status == Reply.Status.PENDING
    [confirmation] = received(smtp_server)
    assert reader.post(link_path(confirmation.get_body(("plain",)).get_content(), "confirm")).status_code == 200

    set_status(mine, Reply.Status.APPROVED)
    published = received(smtp_server)[-1]
    assert len(smtp_server.envelopes) == 2 and "published" in published["Subject"]
    text = published.get_body(("plain",)).get_content()
    assert f"#reply-{mine.pk}" in text and organisation_name() in text
    assert published["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    rules.hold_first_reply = False
    rules.save()
    cache.clear()  # the test's readers share one address: past its rate limit
    other = Client()
    response = other.post(
        "/discussion/post/",
        form(name="Bob", email="bob@example.org", body="To the landlords.", parent=mine.pk, notify_answers=["0"]),
    )
    assert response.status_code == 303
    answered = received(smtp_server)[-1]
    assert len(smtp_server.envelopes) == 3 and answered["To"] == "ada@example.org"
    assert "Bob" in answered["Subject"]
    assert "To the landlords." in answered.get_body(("plain",)).get_content()
    html = answered.get_body(("html",)).get_content()
    assert "To the landlords." in html and "<img" not in html
    assert answered["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = urlsplit(str(answered["List-Unsubscribe"]).strip().strip("<>")).path
    one_click = Client(enforce_csrf_checks=True).post(
        unsubscribe, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert one_click.status_code == 200

    cache.clear()
    response = Client().post(
        "/discussion/post/",
        form(name="Carol", email="carol@example.org", body="Another answer.", parent=mine.pk, notify_answers=["0"]),
    )
    assert response.status_code == 303
    assert len(smtp_server.envelopes) == 3

    set_status(mine, Reply.Status.TRASH, notice="Thank you for taking part; this one had to go.")
    notice = received(smtp_server)[-1]
    assert len(smtp_server.envelopes) == 4 and notice["To"] == "ada@example.org"
    assert "Thank you for taking part" in notice.get_body(("plain",)).get_content()
