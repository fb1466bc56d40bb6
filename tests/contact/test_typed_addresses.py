"""A contact message typed with someone's address is a claim (DESIGN.md "trust follows proof"):
it must not pause that person's own messages when they write signed in."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.security.claims import make_owner

pytestmark = pytest.mark.django_db

VICTIM = "victim@example.org"


def test_a_contact_message_typed_with_an_address_does_not_pause_its_owner(contact_page, post_data, settings):
    settings.SPEAKOUT_CONTACT_SECONDS_BETWEEN_MESSAGES = 30
    stranger = Client(REMOTE_ADDR="198.51.100.7")
    assert stranger.post(contact_page.url, post_data(name="Victim", email=VICTIM)).status_code == 303

    owner = Client(REMOTE_ADDR="203.0.113.9")
    owner.force_login(make_owner())
    response = owner.post(contact_page.url, post_data(name="Victim", email=VICTIM, message="My own question."))

    assert response.status_code == 303, "the stranger's message paused the owner's"


def test_a_contact_message_does_not_tell_a_stranger_that_its_address_just_wrote(contact_page, post_data, settings):
    """Paused by the typed address, a stranger typing it would be told "you have just sent a
    message": that its owner wrote to the organisation a moment ago."""
    settings.SPEAKOUT_CONTACT_SECONDS_BETWEEN_MESSAGES = 30
    owner = Client(REMOTE_ADDR="203.0.113.9")
    assert owner.post(contact_page.url, post_data(name="Victim", email=VICTIM)).status_code == 303

    stranger = Client(REMOTE_ADDR="198.51.100.7")
    response = stranger.post(contact_page.url, post_data(name="Guess", email=VICTIM, message="Did you write?"))

    assert response.status_code == 303, "the answer tells that the address has just written"
