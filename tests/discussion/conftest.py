import time
import uuid

import pytest
from django.core.cache import cache

from speakout.discussion.forms import issue_form_token
from speakout.discussion.models import DiscussionSettings
from speakout.discussion.services import Author, get_or_create_thread, submit_reply


@pytest.fixture(autouse=True)
def clear_cache():
    """Rate limits live in the cache; every test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def rules(db):
    """The discussion settings row, with the first-reply hold off so replies publish."""
    rules = DiscussionSettings.load()
    rules.hold_first_reply = False
    rules.save()
    return rules


@pytest.fixture
def thread(db):
    return get_or_create_thread("report-test", url="http://testserver/reports/test/", title="A test report")


def form_data(thread, **overrides):
    data = {
        "thread": thread.key,
        "name": "Robin",
        "email": "robin@example.org",
        "website": "",
        "body": "A thoughtful reply.",
        "form_token": issue_form_token(thread.key, issued_at=time.time() - 10),
        "submission_id": uuid.uuid4().hex,
    }
    data.update(overrides)
    return data


@pytest.fixture
def post_reply(rules):
    """Submit a reply through the service with sensible defaults; override any field."""

    def post(thread, author=None, checks=None, **overrides):
        author = author or Author(client_hash=uuid.uuid4().hex, guest_token=uuid.uuid4().hex)
        return submit_reply(thread=thread, data=form_data(thread, **overrides), author=author, checks=checks)

    return post
