"""Fixtures of the subscriptions tests, reusing the outbox's (locmem mail, a clean cache, the real
aiosmtpd server); the discussion's (rules, a thread, a reply factory) are shared by tests/conftest.py."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from speakout.discussion.models import Thread
from speakout.discussion.policy import Check, Decision, Verdict
from speakout.outbox.models import OutgoingMail
from speakout.subscriptions import services
from speakout.subscriptions.models import Subscription
from tests.outbox.conftest import outbox_settings, smtp_server  # noqa: F401


class Verdicts(Check):
    """A policy that decides every reply the same way (hold or spam)."""

    def __init__(self, decision):
        self.decision = decision

    def check(self, submission):
        return Verdict(self.decision, "test", "decided by the test")


HOLD = [Verdicts(Decision.HOLD)]
SPAM = [Verdicts(Decision.SPAM)]


@pytest.fixture
def subscribe(db):
    """Make a subscription, confirmed unless told otherwise."""

    def make(email, *, thread: Thread | None = None, confirmed=True, **kwargs):  # noqa: F811
        """Unconfirmed: through ``request_subscription`` (so with its confirmation mail).
        Confirmed: a row as it is once confirmed, without mail, so tests count only theirs."""
        kind = services.Kind.THREAD if thread is not None else services.Kind.POSTS
        if not confirmed:
            return services.request_subscription(email, kind=kind, thread=thread, **kwargs)
        category = kwargs.get("category", "")
        return Subscription.objects.create(
            email=services.normalise_email(email),
            kind=kind,
            thread=thread,
            target=Subscription.target_for(kind, thread, category),
            confirmed_at=timezone.now(),
            **kwargs,
        )

    return make


def mails_to(address):
    """The mails queued to this address, once the worker has queued every reply notification due
    (it does so after the reply's commit, which tests inside a transaction never reach)."""
    services.send_due_reply_notifications()
    return list(OutgoingMail.objects.filter(to=address).order_by("pk"))


def link_path(text: str, name: str) -> str:
    """The path of the first /subscriptions/<name>/… link in a mail's text."""
    match = re.search(rf"https?://\S+/subscriptions/{name}/\S+/", text)
    assert match, text
    return urlsplit(match.group(0)).path
