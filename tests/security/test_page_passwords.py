"""Password-protected reports: a word list cannot be tried against the password form. Attempts
are limited per client and per page, and a refusal reads exactly like a wrong password, so
the limit tells an attacker nothing and a right guess past it opens nothing."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.test import Client
from wagtail.models import PageViewRestriction

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse"


@pytest.fixture(autouse=True)
def _fresh_counts():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def protected(site_builder):
    report = site_builder.report("Protected report")
    restriction = PageViewRestriction.objects.create(
        page=report, restriction_type=PageViewRestriction.PASSWORD, password=PASSWORD
    )
    return report, f"/_util/authenticate_with_password/{restriction.pk}/{report.pk}/"


def _try(client: Client, address: str, report, password: str):
    return client.post(address, {"password": password, "return_url": report.url})


def _message(response) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())


def test_a_word_list_is_stopped_per_client(protected, settings):
    settings.SPEAKOUT_PAGE_PASSWORD_ATTEMPTS = (5, 50, 900)
    report, address = protected
    attacker = Client()
    wrong = [_try(attacker, address, report, f"guess-{number}") for number in range(5)]
    assert all(answer.status_code == 200 for answer in wrong)
    # Past the limit even the right password is refused, with the very page a wrong one gets.
    refused = _try(attacker, address, report, PASSWORD)
    assert refused.status_code == 200
    assert _message(refused) == _message(wrong[-1])
    assert "Body of Protected report" not in attacker.get(report.url).content.decode()
    # Another reader is not held up by one client's attempts.
    reader = Client(REMOTE_ADDR="192.0.2.44")
    assert _try(reader, address, report, PASSWORD).status_code == 302
    assert "Body of Protected report" in reader.get(report.url).content.decode()


def test_many_clients_together_are_stopped_per_page(protected, settings):
    settings.SPEAKOUT_PAGE_PASSWORD_ATTEMPTS = (5, 8, 900)
    report, address = protected
    for number in range(8):
        # Each in a network of its own: a client is its address kept to /24.
        client = Client(REMOTE_ADDR=f"198.18.{number + 1}.1")
        assert _try(client, address, report, f"guess-{number}").status_code == 200
    late = Client(REMOTE_ADDR="198.51.100.7")
    answer = _try(late, address, report, PASSWORD)
    assert answer.status_code == 200
    assert "Body of Protected report" not in late.get(report.url).content.decode()


def test_one_client_trying_on_past_its_limit_does_not_lock_the_page_for_readers(protected, settings):
    """A client already stopped is refused without counting against the page: on its own it
    cannot use up the page's attempts and shut out everyone who knows the password."""
    settings.SPEAKOUT_PAGE_PASSWORD_ATTEMPTS = (5, 8, 900)
    report, address = protected
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    assert all(_try(attacker, address, report, f"guess-{number}").status_code == 200 for number in range(30))
    reader = Client(REMOTE_ADDR="192.0.2.44")
    assert _try(reader, address, report, PASSWORD).status_code == 302
    assert "Body of Protected report" in reader.get(report.url).content.decode()
