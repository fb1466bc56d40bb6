"""Fixtures of the privacy tests, reusing the discussion's (rules, a thread, a reply factory), the
outbox's (locmem mail, a clean cache) and the subscriptions' (a subscription factory), all in
tests/conftest.py."""

from __future__ import annotations

import uuid

import pytest

from speakout.discussion.services import Author, get_or_create_thread
from tests.helpers import word_marker
from tests.privacy.helpers import EMAIL, mails_to, manage_path


@pytest.fixture(autouse=True)
def _outbox(outbox_settings):
    return outbox_settings


@pytest.fixture
def other_thread(db):
    return get_or_create_thread("report-other", url="http://testserver/reports/other/", title="Another report")


@pytest.fixture
def reply_as(post_reply, settings):
    """Post a reply as a guest with the given email (published unless ``checks=HOLD``); the
    rate limits are off, so one person can post several in a test. Each address writes from its
    own browser (one guest token), which is what files its replies under one record."""
    settings.SPEAKOUT_DISCUSSION_SECONDS_BETWEEN_REPLIES = 0
    settings.SPEAKOUT_DISCUSSION_BURST_LIMIT = (0, 600)
    browsers: dict[str, str] = {}

    def make(thread, email=EMAIL, body=None, **kwargs):
        author = Author(client_hash=uuid.uuid4().hex, guest_token=browsers.setdefault(email, uuid.uuid4().hex))
        result = post_reply(thread, author=author, email=email, body=body or f"Reply {word_marker()}", **kwargs)
        assert result.ok, result.errors
        return result.reply

    return make


@pytest.fixture
def request_link(client, django_capture_on_commit_callbacks):
    """Ask for the manage link as a visitor would; returns the response."""

    def ask(email=EMAIL, http_client=None):
        with django_capture_on_commit_callbacks(execute=True):
            return (http_client or client).post("/privacy/my-replies/", {"email": email})

    return ask


@pytest.fixture
def manage_link(request_link):
    """The path of a working manage link for an address (asked for and read from the mail)."""

    def get(email=EMAIL):
        request_link(email)
        return manage_path(mails_to(email)[-1])

    return get
