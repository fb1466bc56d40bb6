"""Refused inbox requests are logged one by one only up to
``SPEAKOUT_FEDERATION_REFUSED_LOGGED_PER_HOST_PER_HOUR`` per host and hour; the rest of that hour
is counted in one row per host, so junk POSTs cannot grow the log without bound while an admin
still sees the first reasons and how many more came."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from speakout.federation.models import ActivityLog

pytestmark = pytest.mark.django_db
INBOX = "/federation/inbox"


def junk(client: Client, address: str = "203.0.113.7") -> int:
    answer = client.post(INBOX, b"{not json", content_type="application/activity+json", REMOTE_ADDR=address)
    return answer.status_code


def test_refused_requests_past_the_cap_are_counted_in_one_row(federation, settings):
    settings.SPEAKOUT_FEDERATION_REFUSED_LOGGED_PER_HOST_PER_HOUR = 3
    client = Client()
    for _ in range(10):
        assert junk(client) == 400
    rows = list(ActivityLog.objects.filter(kind=ActivityLog.Kind.INBOX).order_by("pk"))
    assert len(rows) == 4
    assert "7 more refused" in rows[-1].detail
    # Another sender has its own allowance.
    assert junk(client, "198.51.100.9") == 400
    assert ActivityLog.objects.filter(kind=ActivityLog.Kind.INBOX).count() == 5


def test_a_new_claimed_host_at_each_request_is_still_one_sender(federation, settings):
    """The claimed actor is the sender's word, checked by nothing yet: one address claiming a new
    server at every request is counted as the one sender it is."""
    settings.SPEAKOUT_FEDERATION_REFUSED_LOGGED_PER_HOST_PER_HOUR = 3
    client = Client()
    for n in range(10):
        body = json.dumps({"type": "Follow", "actor": f"https://h{n}.example/users/x", "object": "x"})
        answer = client.post(INBOX, body, content_type="application/activity+json", REMOTE_ADDR="203.0.113.7")
        assert answer.status_code == 401
    rows = list(ActivityLog.objects.filter(kind=ActivityLog.Kind.INBOX).order_by("pk"))
    assert len(rows) == 4
    assert "7 more refused" in rows[-1].detail
