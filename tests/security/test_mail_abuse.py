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
