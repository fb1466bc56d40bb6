"""Account mail speaks for the organisation: its name (as the admin sets it in Wagtail's site
settings) in the sender, the subject and the signature; never allauth's "Hello from <host>"."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.urls import reverse
from wagtail.models import Site

from speakout.outbox.models import OutgoingMail
from speakout.outbox.sender import organisation_name, sender_address
from speakout.outbox.services import build_message

pytestmark = pytest.mark.django_db

NAME = "Night Shelter Collective"


@pytest.fixture
def named_site():
    site = Site.objects.get(is_default_site=True)
    site.site_name = NAME
    site.save()
    return site


def test_sign_up_mail_names_the_organisation(client, named_site):
    client.post(
        reverse("account_signup"),
        {
            "username": "heron",
            "email": "maya@example.org",
            "password1": "rivers run to the sea 7",
            "password2": "rivers run to the sea 7",
        },
    )
    mail = OutgoingMail.objects.get(to="maya@example.org")
    assert mail.subject.startswith(f"{NAME}: ")
    assert f"sign up at {NAME}" in mail.text_body
    assert f"\n-- \n{NAME}\n" in mail.text_body, "signed by the organisation"
    for leftover in ("Hello from", "testserver!", "example.com", "Thank you for using"):
        assert leftover not in mail.text_body
    assert build_message(mail).from_email == f"{NAME} <speakout@localhost>"


@override_settings(DEFAULT_FROM_EMAIL="Old Name <news@org.example>", SITE_NAME="Fallback")
def test_sender_takes_the_admin_name_and_the_configured_address(named_site):
    assert sender_address() == f"{NAME} <news@org.example>"
    named_site.site_name = "Line\nbreak, and comma"
    named_site.save()
    assert sender_address() == '"Line break, and comma" <news@org.example>'
    named_site.site_name = ""
    named_site.save()
    assert organisation_name() == "Fallback"
