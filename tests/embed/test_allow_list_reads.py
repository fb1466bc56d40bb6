"""The embed's allow-list, read on every cross-origin request, against a real Redis as production
runs it: its version and the list come in one round trip, and a change is read at the next request."""

from __future__ import annotations

import pytest

from speakout.embed import origins
from speakout.embed.models import AllowedOrigin
from tests.embed.helpers import SITE
from tests.sharedcache import commands_of

pytestmark = pytest.mark.django_db


def test_the_allow_list_and_its_version_come_in_one_round_trip(redis, monkeypatch, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        AllowedOrigin.objects.create(origin=SITE)
    assert origins.allowed(SITE)  # read from the database once, and kept
    sent = commands_of(redis, monkeypatch)
    assert origins.allowed(SITE) is not None
    assert origins.allowed("https://elsewhere.example") is None
    assert sent == ["MGET", "MGET"]


def test_a_change_is_read_at_the_next_request(redis, django_capture_on_commit_callbacks):
    assert origins.allowed(SITE) is None
    with django_capture_on_commit_callbacks(execute=True):
        entry = AllowedOrigin.objects.create(origin=SITE)
    assert origins.allowed(SITE) is not None
    entry.is_active = False
    with django_capture_on_commit_callbacks(execute=True):
        entry.save()
    assert origins.allowed(SITE) is None
