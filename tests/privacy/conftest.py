"""Fixtures of the privacy tests, reusing the discussion's (rules, a thread, a reply factory), the
outbox's (locmem mail, a clean cache) and the subscriptions' (a subscription factory)."""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit

import pytest

from speakout.discussion.services import Author, get_or_create_thread
from speakout.outbox.models import OutgoingMail
from tests.outbox.conftest import outbox_settings  # noqa: F401
from tests.subscriptions.conftest import HOLD, subscribe  # noqa: F401

__all__ = ["HOLD"]

EMAIL = "robin@example.org"


@pytest.fixture
def other_thread(db):
    return get_or_create_thread("report-other", url="http://testserver/reports/other/", title="Another report")


@pytest.fixture
def reply_as(post_reply, settings):  # noqa: F811
    """Post a reply as a guest with the given email (published unless ``checks=HOLD``); the
    rate limits are off, so one person can post several in a test. Each address writes from its
    own browser (one guest token), which is what files its replies under one record."""
    settings.SPEAKOUT_DISCUSSION_SECONDS_BETWEEN_REPLIES = 0
    settings.SPEAKOUT_DISCUSSION_BURST_LIMIT = (0, 600)
    browsers: dict[str, str] = {}

    def make(thread, email=EMAIL, body=None, **kwargs):  # noqa: F811
        author = Author(client_hash=uuid.uuid4().hex, guest_token=browsers.setdefault(email, uuid.uuid4().hex))
        result = post_reply(thread, author=author, email=email, body=body or f"Reply {uuid.uuid4().hex[:8]}", **kwargs)
        assert result.ok, result.errors
        return result.reply

    return make


def mails_to(address):
    return list(OutgoingMail.objects.filter(to=address).order_by("pk"))


def manage_path(mail: OutgoingMail) -> str:
    match = re.search(r"https?://\S+/privacy/my-replies/\S+/", mail.text_body)
    assert match, mail.text_body
    return urlsplit(match.group(0)).path


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
