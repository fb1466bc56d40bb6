"""Floods: bounded bursts of reply attempts (2,000 in all), from loopback through the test client in threads,
with the shipped limits (one reply per client or guest token per pause, 5 per window; the
windows are stretched to an hour so a slow machine sees the same figures).

Every attempt is counted: accepted (stored: the answer names the reply), refused (429 with the
rate-limit reason, or 400 with another clear reason), stored (rows in the database), lost
(accepted but not stored: must be 0). The limits must hold per client hash (never per typed
address: tests/security/test_identity_claims.py), a forged ``X-Forwarded-For`` from a peer that
is not a trusted proxy must not split one sender into many, and the honeypot and the time trap
must catch what they are for.

On SQLite the test database lives in memory, shared by the threads' connections, and such a
database refuses a second writer outright instead of waiting for it; the attempts are then sent
one at a time (the file database of a real server queues its writers by its IMMEDIATE lock).
On PostgreSQL the threads really run at once. The figures go to docs/reliability.md.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter, defaultdict
from contextlib import nullcontext
from dataclasses import dataclass, field

import pytest
from django.core.cache import cache
from django.db import connection, connections
from django.test import Client

from speakout.discussion.clients import client_hashes_for_ip
from speakout.discussion.forms import issue_form_token
from speakout.discussion.models import DiscussionSettings, Reply
from speakout.discussion.services import get_or_create_thread
from tests.helpers import word_marker

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 4
PROXY = "10.0.0.2"
ATTACKER = "192.0.2.66"


@dataclass
class Attempt:
    peer: str
    email: str
    forwarded: str = ""
    honeypot: str = ""
    token_age: float = 10.0  # seconds since the form was shown; None: no token at all
    expect_client: str = ""  # the address the limit should count


@dataclass
class Tally:
    answers: Counter = field(default_factory=Counter)
    accepted_ids: list = field(default_factory=list)
    by_client: dict = field(default_factory=lambda: defaultdict(list))
    by_email: dict = field(default_factory=lambda: defaultdict(list))
    refusal_codes: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def flood_thread(settings):
    settings.SPEAKOUT_TRUSTED_PROXIES = [PROXY]
    # The shipped limits with hour-long windows: on a busy test machine a burst may take longer
    # than the shipped 15 s pause, and the figures must not depend on how fast the machine is.
    settings.SPEAKOUT_DISCUSSION_SECONDS_BETWEEN_REPLIES = 3600
    settings.SPEAKOUT_DISCUSSION_BURST_LIMIT = (5, 3600)
    settings.SPEAKOUT_MODERATOR_ALERTS_PER_HOUR = 0  # no moderator mail per held reply
    cache.clear()
    rules = DiscussionSettings.load()
    rules.hold_first_reply = False
    rules.save()
    thread = get_or_create_thread(f"flood-{uuid.uuid4().hex[:8]}", url="/flood/", title="Flood")
    yield thread
    cache.clear()


def send(client: Client, thread, attempt: Attempt, number: int) -> tuple[int, dict]:
    payload = {
        "name": f"Sender {number}",
        "email": attempt.email,
        # Letters only: a run of digits could read as a phone number to the personal-data guard.
        "body": "Attempt " + word_marker(16),
        "homepage": attempt.honeypot,
    }
    if attempt.token_age is not None:
        payload["form_token"] = issue_form_token(thread.key, issued_at=time.time() - attempt.token_age)
    extra = {"REMOTE_ADDR": attempt.peer}
    if attempt.forwarded:
        extra["HTTP_X_FORWARDED_FOR"] = attempt.forwarded
    response = client.post(
        f"/api/threads/{thread.key}/replies", json.dumps(payload), content_type="application/json", **extra
    )
    return response.status_code, response.json()


def flood(thread, attempts: list[Attempt]) -> Tally:
    tally = Tally()
    one_at_a_time = threading.Lock() if connection.vendor == "sqlite" else nullcontext()
    shares = [list(enumerate(attempts))[start::THREADS] for start in range(THREADS)]
    failures: list[BaseException] = []

    def worker(share):
        client = Client()
        try:
            for number, attempt in share:
                with one_at_a_time:
                    status, body = send(client, thread, attempt, number)
                with tally.lock:
                    tally.answers[status] += 1
                    if status == 201:
                        tally.accepted_ids.append(body["reply"]["id"])
                        tally.by_client[attempt.expect_client or attempt.peer].append(body["reply"]["id"])
                        tally.by_email[attempt.email].append(body["reply"]["id"])
                    else:
                        assert status in (400, 429), (status, body)
                        assert body["outcome"] == "rejected" and any(body["errors"].values()), body
                        assert status != 400 or body["code"] != "invalid", body
                        assert (status == 429) == (body["code"] == "rate_limit"), body
                        tally.refusal_codes[body["code"]] += 1
        except BaseException as error:  # reported by the main thread
            failures.append(error)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=worker, args=(share,)) for share in shares]
    for thread_ in workers:
        thread_.start()
    for thread_ in workers:
        thread_.join(timeout=120)
    assert not any(thread_.is_alive() for thread_ in workers), "the flood did not finish in 2 minutes"
    if failures:
        raise failures[0]
    return tally


def figures(thread, tally: Tally, attempts: int) -> dict:
    stored = set(Reply.objects.filter(thread=thread).values_list("pk", flat=True))
    accepted = set(tally.accepted_ids)
    result = {
        "attempts": attempts,
        "accepted": len(tally.accepted_ids),
        "refused": attempts - len(tally.accepted_ids),
        "stored": len(stored),
        "lost": len(accepted - stored),
    }
    assert sum(tally.answers.values()) == attempts
    assert len(accepted) == len(tally.accepted_ids), "an id answered twice"
    assert result["lost"] == 0 and stored == accepted, "every accepted reply is stored, nothing else is"
    return result


def test_a_burst_from_many_clients_gets_one_reply_per_client(flood_thread):
    """1,000 attempts: 100 clients (distinct /48 networks, so distinct client hashes) behind the
    trusted proxy and 150 email addresses, spread over both. The pause lets each
    client through once in the burst; everything else gets a 429."""
    attempts = [
        Attempt(
            peer=PROXY,
            forwarded=f"198.18.0.1, 2001:db8:{n % 100:x}::1",  # the client wrote the left one
            email=f"person{n % 150}@example.org",
            expect_client=f"2001:db8:{n % 100:x}::1",
        )
        for n in range(1000)
    ]
    started = time.monotonic()
    tally = flood(flood_thread, attempts)
    seconds = time.monotonic() - started
    result = figures(flood_thread, tally, len(attempts))
    print("flood, many clients:", result, dict(tally.refusal_codes), f"{seconds:.1f} s")
    assert all(len(ids) == 1 for ids in tally.by_client.values()), "one reply per client"
    assert result["accepted"] >= 60, "the limit must not refuse clients it never saw"
    assert set(tally.refusal_codes) == {"rate_limit"}
    assert tally.answers[429] == result["refused"]
    hashes = set(Reply.objects.filter(thread=flood_thread).values_list("client_hash", flat=True))
    assert len(hashes) == result["accepted"]


def test_a_forged_forwarded_for_from_an_untrusted_peer_is_one_client(flood_thread):
    """300 attempts from one peer outside the proxy list, each forging a new X-Forwarded-For
    and using a new email address: the peer is one client, so one reply gets through."""
    attempts = [
        Attempt(peer=ATTACKER, forwarded=f"203.0.113.{n % 250}, {PROXY}", email=f"forger{n}@example.org")
        for n in range(300)
    ]
    tally = flood(flood_thread, attempts)
    result = figures(flood_thread, tally, len(attempts))
    print("flood, forged X-Forwarded-For:", result, dict(tally.refusal_codes))
    assert result["accepted"] == 1 and result["stored"] == 1
    assert tally.answers[429] == 299
    stored = Reply.objects.get(thread=flood_thread)
    assert stored.client_hash == client_hashes_for_ip(ATTACKER)[0]


def test_the_burst_limit_holds_when_the_pause_is_off(flood_thread, settings):
    """With no pause between replies, the burst limit (5 per window) is what holds: 400
    attempts from 20 clients with 40 addresses store at most 5 per client and per address."""
    settings.SPEAKOUT_DISCUSSION_SECONDS_BETWEEN_REPLIES = 0
    attempts = [Attempt(peer=f"2001:db8:{n % 20:x}::7", email=f"burst{n % 40}@example.org") for n in range(400)]
    tally = flood(flood_thread, attempts)
    result = figures(flood_thread, tally, len(attempts))
    print("flood, burst limit:", result, dict(tally.refusal_codes))
    assert all(len(ids) <= 5 for ids in tally.by_client.values()), "at most 5 per client"
    assert all(len(ids) <= 5 for ids in tally.by_email.values()), "at most 5 per address"
    assert result["accepted"] >= 40, "clients below the limit get through"
    assert set(tally.refusal_codes) == {"rate_limit"}


def test_honeypot_and_time_trap_catch_robots_in_a_burst(flood_thread, settings):
    """300 robot attempts, each from its own client and address so no rate limit interferes:
    a filled honeypot is stored as spam (never published; the moderators see why), a form sent
    within the time trap's 3 s is held for a moderator, one without a token is refused with a
    reason, and nothing of it appears in public."""
    settings.SPEAKOUT_DISCUSSION_SECONDS_BETWEEN_REPLIES = 0
    settings.SPEAKOUT_DISCUSSION_BURST_LIMIT = (0, 600)
    kinds = {
        "honeypot": {"honeypot": "http://spam.example/"},
        "too_fast": {"token_age": 0.5},
        "no_token": {"token_age": None},
        "expired": {"token_age": 2 * 24 * 3600},
    }
    attempts = []
    for n in range(300):
        kind = list(kinds)[n % len(kinds)]
        attempts.append(Attempt(peer=f"2001:db8:{n:x}::9", email=f"robot{n}@example.org", **kinds[kind]))
    tally = flood(flood_thread, attempts)
    result = figures(flood_thread, tally, len(attempts))
    print("flood, robots:", result, dict(tally.refusal_codes))
    assert tally.refusal_codes == Counter({"form_expired": 150})
    assert result["accepted"] == 150
    statuses = Counter(Reply.objects.filter(thread=flood_thread).values_list("status", flat=True))
    assert statuses == Counter({Reply.Status.SPAM: 75, Reply.Status.PENDING: 75})
    assert flood_thread.__class__.objects.get(pk=flood_thread.pk).approved_count == 0
