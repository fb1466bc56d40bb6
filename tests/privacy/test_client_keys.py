"""Client hashes: keyed with a rotating random secret; bans and rate limits keep working across a
rotation, and a key past the retention window is deleted, so its hashes can never be linked back."""

import uuid
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import RequestFactory
from django.utils import timezone

from speakout.discussion import policy
from speakout.discussion.clients import client_hash, client_hashes, client_hashes_for_ip, client_keys
from speakout.discussion.models import BannedClient, ClientKey, DiscussionSettings
from speakout.discussion.services import Author, submit_reply
from speakout.privacy.purge import purge_expired
from tests.discussion.helpers import form_data

pytestmark = pytest.mark.django_db

IP = "198.51.100.23"


def test_same_network_same_hash_and_no_address_stored():
    same = client_hashes_for_ip("198.51.100.99")
    assert client_hashes_for_ip(IP) == same
    assert client_hashes_for_ip("203.0.113.5") != same
    assert all(IP not in key.secret for key in ClientKey.objects.all())
    assert len(same[0]) == 64


def test_a_rotation_makes_a_new_key_and_keeps_the_old_one_for_the_window():
    now = timezone.now()
    before = client_hashes_for_ip(IP, now)
    later = now + timedelta(days=8)
    after = client_hashes_for_ip(IP, later)
    assert after[0] != before[0]
    assert before[0] in after  # the old key still answers
    assert ClientKey.objects.count() == 2


def test_the_request_hash_is_the_current_keys():
    request = RequestFactory().get("/", REMOTE_ADDR=IP)
    assert client_hash(request) == client_hashes(request)[0] == client_hashes_for_ip(IP)[0]


def test_a_ban_made_before_a_rotation_still_holds_and_moves_to_the_new_key(thread, rules):
    now = timezone.now()
    old_hash = client_hashes_for_ip(IP, now)[0]
    BannedClient.objects.create(client_hash=old_hash, reason="abuse")
    later = now + timedelta(days=8)
    hashes = tuple(client_hashes_for_ip(IP, later))
    cache.clear()
    author = Author(client_hash=hashes[0], client_hashes=hashes, guest_token=uuid.uuid4().hex)
    result = submit_reply(thread=thread, data=form_data(thread, email="new@example.org"), author=author)
    assert result.reply.status == "spam"
    assert BannedClient.objects.filter(client_hash=hashes[0], reason="abuse").exists()


def test_a_rate_limit_recorded_under_the_old_key_still_counts(thread, rules, settings):
    now = timezone.now()
    old = client_hashes_for_ip(IP, now)
    check = policy.RateLimitCheck()
    first = policy.Submission(
        thread=thread, body="a", name="A", email="", website="", client_hash=old[0],
        rules=DiscussionSettings.load(), now=now,
    )  # fmt: skip
    assert check.reserve(first) is None
    new = tuple(client_hashes_for_ip(IP, now + timedelta(days=8)))
    second = policy.Submission(
        thread=thread, body="b", name="A", email="", website="", client_hash=new[0], client_hashes=new,
        rules=DiscussionSettings.load(), now=now,
    )  # fmt: skip
    verdict = check.check(second)
    assert verdict is not None and verdict.code == "rate_limit"


def test_the_purge_deletes_keys_past_the_window_and_nothing_newer():
    now = timezone.now()
    client_keys(now - timedelta(days=60))
    client_keys(now - timedelta(days=20))
    client_keys(now)
    assert ClientKey.objects.count() == 3
    counts = purge_expired(now)
    assert counts["client_keys"] == 1
    periods = sorted(ClientKey.objects.values_list("period", flat=True))
    assert len(periods) == 2
    cache.clear()
    assert len(client_keys(now)) == 2
