import time

import pytest
from django.core.cache import cache
from django.test import Client

from speakout.discussion.forms import issue_form_token
from speakout.discussion.models import DiscussionSettings
from speakout.embed.models import AllowedOrigin

SITE = "https://blog.example.org"
OTHER = "https://elsewhere.example.net"


@pytest.fixture(autouse=True)
def clear_cache():
    """Rate limits and the allow-list live in the cache; every test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def rules(db):
    rules = DiscussionSettings.load()
    rules.hold_first_reply = False
    rules.save()
    return rules


@pytest.fixture
def allowed_site(db):
    return AllowedOrigin.objects.create(origin=SITE)


@pytest.fixture
def client():
    return Client(HTTP_ORIGIN=SITE)


def old_token(key: str) -> str:
    """A form token issued ten seconds ago: past the time trap, as a person would be."""
    return issue_form_token(key, issued_at=time.time() - 10)
