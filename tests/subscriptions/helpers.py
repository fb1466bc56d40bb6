"""What subscriptions tests (and others that check their mail) share: policies that hold or
mark spam every reply, the mails queued to an address, and the links in a mail."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from speakout.discussion.policy import Check, Decision, Verdict
from speakout.outbox.models import OutgoingMail
from speakout.subscriptions import services


class Verdicts(Check):
    """A policy that decides every reply the same way (hold or spam)."""

    def __init__(self, decision):
        self.decision = decision

    def check(self, submission):
        return Verdict(self.decision, "test", "decided by the test")


HOLD = [Verdicts(Decision.HOLD)]
SPAM = [Verdicts(Decision.SPAM)]


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
