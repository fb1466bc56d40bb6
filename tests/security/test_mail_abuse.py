"""The site's mail as a weapon: nobody makes the site mail their text to an address they have
not proved is theirs, and no address gets more than a few mails however many clients ask."""

from __future__ import annotations

import time
import uuid

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client

from speakout.contact.models import ContactPage
from speakout.contact.services import form_key
from speakout.discussion.forms import issue_form_token
from speakout.outbox.models import OutgoingMail

pytestmark = pytest.mark.django_db

VICTIM = "victim@example.net"
SPAM = "Cheap pills at https://evil.example/buy - act now"


@pytest.fixture(autouse=True)
def _no_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def contact_page(site_builder):
    page = site_builder.home.add_child(
        instance=ContactPage(title="Contact", slug=f"contact-{uuid.uuid4().hex[:6]}", recipients="team@org.example")
    )
    page.save_revision().publish()
    return page


def _contact(client, page, **changes):
    data = {
        "name": "Ada",
        "email": VICTIM,
        "message": SPAM,
        "send_copy": "on",
        "form_token": issue_form_token(form_key(page), time.time() - 10),
        "homepage": "",
    }
    data.update(changes)
    return client.post(page.url, data)


def _mail_to(address: str) -> list[OutgoingMail]:
    return list(OutgoingMail.objects.filter(to=address))


def test_send_me_a_copy_mails_no_unproven_address(contact_page):
    """Anonymous: the box is not offered, and a forged one sends nothing to the typed address."""
    anonymous = Client()
    assert 'name="send_copy"' not in anonymous.get(contact_page.url).content.decode()
    response = _contact(anonymous, contact_page)
    assert response.status_code == 303
    assert _mail_to(VICTIM) == []
    assert _mail_to("team@org.example"), "the organisation still gets the message"


def test_send_me_a_copy_mails_no_unverified_account_address(contact_page):
    user = get_user_model().objects.create_user("ada", VICTIM, "pw-long-enough-1")
    EmailAddress.objects.create(user=user, email=VICTIM, verified=False, primary=True)
    client = Client()
    client.force_login(user)
    assert 'name="send_copy"' not in client.get(contact_page.url).content.decode()
    _contact(client, contact_page)
    assert _mail_to(VICTIM) == []


def test_a_verified_account_gets_its_copy_at_its_own_address_only(contact_page):
    user = get_user_model().objects.create_user("ada", "ada@example.org", "pw-long-enough-1")
    EmailAddress.objects.create(user=user, email="ada@example.org", verified=True, primary=True)
    client = Client()
    client.force_login(user)
    assert 'name="send_copy"' in client.get(contact_page.url).content.decode()
    _contact(client, contact_page, email=VICTIM)
    assert _mail_to(VICTIM) == []
    (copy,) = _mail_to("ada@example.org")
    assert SPAM in copy.text_body
    cache.clear()
    _contact(client, contact_page, email="ada@example.org", message="Second message")
    assert len(_mail_to("ada@example.org")) == 2


LURE = "URGENT: your account will be deleted - verify at https://evil.example/login now " + "padding " * 40


def _follow(thread, address: str, remote_addr: str):
    client = Client(REMOTE_ADDR=remote_addr)
    return client.post(
        "/subscriptions/follow/",
        {
            "thread": thread.key,
            "email": address,
            "notify_replies": "on",
            "form_token": issue_form_token(thread.key, time.time() - 10),
        },
    )


@pytest.fixture
def lure_threads(db):
    """Threads titled by an embedding page, as an attacker would title them."""
    from speakout.discussion.services import get_or_create_thread

    return [
        get_or_create_thread(f"lure-{number}", url=f"https://blog.example.org/p/{number}/", title=LURE + "\nBcc: x@y")
        for number in range(12)
    ]


def test_a_thread_title_in_mail_is_one_short_line_without_foreign_links(lure_threads):
    assert _follow(lure_threads[0], VICTIM, "203.0.113.1").status_code == 200
    (mail,) = _mail_to(VICTIM)
    for part in (mail.subject, mail.text_body, mail.html_body):
        assert "evil.example" not in part
        assert "Bcc" not in part
    assert "URGENT: your account will be deleted" in mail.subject
    assert len(mail.subject) < 140
    assert "\n" not in mail.subject


def test_confirmation_mails_to_one_address_are_capped_across_many_clients(lure_threads, settings):
    """Each follow request comes from another address (so the per-client limit never trips):
    the victim still gets only a few confirmation mails."""
    settings.SPEAKOUT_SUBSCRIPTIONS_CONFIRMATIONS_PER_ADDRESS = (3, 86400)
    for number, thread in enumerate(lure_threads):
        answer = _follow(thread, VICTIM, f"203.0.{number + 1}.1")
        assert answer.status_code == 200, "the same answer whether a mail was sent or not"
    assert len(_mail_to(VICTIM)) == 3
    # Another address is not affected.
    _follow(lure_threads[0], "someone-else@example.net", "198.51.100.9")
    assert len(_mail_to("someone-else@example.net")) == 1


def test_no_reply_notification_once_the_report_is_private(site_builder):
    """A reply recorded for its followers while the report was public, announced after the
    report became a draft: nobody is mailed its text."""
    from django.utils import timezone

    from speakout.discussion.models import Reply
    from speakout.publishing.discussion import thread_for_report
    from speakout.subscriptions.models import Subscription
    from speakout.subscriptions.services import notify_reply_approved, send_due_reply_notifications

    report = site_builder.report("Soon private")
    thread = thread_for_report(report)
    Subscription.objects.create(
        email="follower@example.org",
        kind="thread",
        thread=thread,
        target=Subscription.target_for("thread", thread),
        confirmed_at=timezone.now(),
    )
    reply = Reply.objects.create(
        thread=thread, body="Secret text", body_html="<p>Secret text</p>", status=Reply.Status.APPROVED
    )
    assert notify_reply_approved(reply)
    report.unpublish()
    thread.refresh_from_db()
    assert not thread.is_public
    send_due_reply_notifications()
    assert _mail_to("follower@example.org") == []
