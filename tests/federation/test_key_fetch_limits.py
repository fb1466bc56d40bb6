"""Hostile signatures cannot make the site fetch keys without end: a key is fetched again at most
once per ``KEY_REFETCH_SECONDS`` per keyId, and at most ``KEY_FETCHES_PER_HOST_PER_HOUR`` times
per host; a request past either limit is refused (401) without a fetch. Without these limits
every POST with a forged signature made the site fetch the ``keyId`` again, so anyone could
make it hammer a third party's server (or spend the site's own fetcher)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.cache import cache

from speakout.federation import remote
from speakout.federation.models import ActivityLog, Follower

from .helpers import BASE_URL, RemoteKey

pytestmark = pytest.mark.django_db
ACTOR = f"{BASE_URL}/federation/actor"


def follow(account: RemoteKey, n: int = 1) -> dict:
    return {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{account.url}#follow-{n}",
            "type": "Follow", "actor": account.url, "object": ACTOR}  # fmt: skip


@pytest.fixture
def fetched(monkeypatch, bob) -> list[str]:
    """Every document the site fetches; each answers with bob's actor and his kept key."""
    urls: list[str] = []

    def fetch_document(url: str) -> dict:
        urls.append(url)
        if not url.startswith(bob.url):
            raise remote.RemoteError("not found")
        key = {"id": bob.key_id, "owner": bob.url, "publicKeyPem": bob.actor.public_key_pem}
        return {
            "id": bob.url,
            "type": "Person",
            "preferredUsername": "bob",
            "inbox": bob.url + "/inbox",
            "publicKey": key,
        }

    monkeypatch.setattr(remote, "fetch_document", fetch_document)
    return urls


def test_forged_signatures_fetch_a_known_key_again_once_per_window(federation, client, bob, fetched):
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for n in range(10):
        assert bob.post(client, follow(bob, n), key=forger).status_code == 401
    assert fetched == [bob.url]  # one fetch for ten forged requests
    refused = ActivityLog.objects.filter(kind="inbox", outcome=ActivityLog.Outcome.SIGNATURE)
    assert refused.count() == 10
    assert refused.filter(detail__contains="not fetched again so soon").count() == 9
    # bob's own signature still verifies with the kept key, whatever the limit.
    assert bob.post(client, follow(bob, 99)).status_code == 202
    assert Follower.objects.filter(actor=bob.actor).exists()
    # Once the window has passed (its counters expire), one fetch more.
    cache.clear()
    assert bob.post(client, follow(bob, 100), key=forger).status_code == 401
    assert fetched == [bob.url, bob.url]


def test_a_key_unknown_here_is_fetched_once_not_once_and_again(federation, client, bob, fetched):
    """An unknown keyId is fetched; a signature that fails with that fresh key is not worth
    a second fetch, nor is the same keyId sent again at once."""
    mallory = RemoteKey("https://remote.example/users/mallory")
    mallory.key_id = "https://remote.example/users/mallory-nowhere#main-key"
    for n in range(3):
        assert mallory.post(client, follow(mallory, n)).status_code == 401
    assert fetched == ["https://remote.example/users/mallory-nowhere"]


def test_invented_key_ids_on_one_host_are_fetched_at_most_the_host_s_limit(federation, client, bob, fetched, settings):
    settings.SPEAKOUT_FEDERATION_KEY_FETCHES_PER_HOST_PER_HOUR = 3
    victim = RemoteKey("https://victim.example/users/v")
    for n in range(12):
        victim.key_id = f"https://victim.example/keys/{n}#main-key"
        assert victim.post(client, follow(victim, n)).status_code == 401
    assert len(fetched) == 3
    assert all(url.startswith("https://victim.example/keys/") for url in fetched)
    # Another host has its own count.
    carol = RemoteKey("https://third.example/users/carol")
    carol.key_id = "https://third.example/keys/x#main-key"
    assert carol.post(client, follow(carol)).status_code == 401
    assert fetched[-1] == "https://third.example/keys/x"


def test_the_limits_are_the_federation_s_settings(settings):
    from speakout.federation.app_settings import app_settings

    assert app_settings.KEY_REFETCH_SECONDS == 300
    assert app_settings.KEY_FETCHES_PER_HOST_PER_HOUR == 120
    settings.SPEAKOUT_FEDERATION_KEY_REFETCH_SECONDS = 60
    assert app_settings.KEY_REFETCH_SECONDS == 60
