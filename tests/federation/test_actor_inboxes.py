"""An actor's inbox and shared inbox must be on the actor's own registrable domain. Taken as
written, an actor document could name any public address as its inbox, and the site would POST
signed activities there (the Accept of a follow, every report and reply to followers): anyone
could aim the site at a third party's server. An actor naming an inbox elsewhere is refused,
with the reason in the federation log; one kept from before is sent nothing."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from speakout.federation import delivery, remote
from speakout.federation.models import ActivityLog, Delivery, Follower, RemoteActor

from .helpers import BASE_URL, REMOTE, RemoteKey

pytestmark = pytest.mark.django_db
AS = "https://www.w3.org/ns/activitystreams"
ACTOR = f"{BASE_URL}/federation/actor"
VICTIM = "https://victim.example/api/hook"


@pytest.fixture
def client():
    return Client()


def document(account: RemoteKey, *, inbox: str = "", shared: str = "") -> dict:
    key = {"id": account.key_id, "owner": account.url, "publicKeyPem": account.actor.public_key_pem}
    found = {"id": account.url, "type": "Person", "preferredUsername": "bob", "inbox": inbox or account.url + "/inbox",
             "publicKey": key}  # fmt: skip
    if shared:
        found["endpoints"] = {"sharedInbox": shared}
    return found


def follow(account: RemoteKey) -> dict:
    return {"@context": AS, "id": f"{account.url}#follow-{uuid.uuid4().hex}", "type": "Follow",
            "actor": account.url, "object": ACTOR}  # fmt: skip


@pytest.mark.parametrize(
    ("inbox", "shared"),
    [
        (VICTIM, ""),
        ("", VICTIM),
        ("https://remote.example.victim.example/inbox", ""),  # the actor's name inside another domain
        ("https://example/inbox", ""),  # a public suffix above the actor's domain
    ],
)
def test_an_actor_with_an_inbox_on_another_domain_is_refused_and_logged(federation, bob, inbox, shared):
    with pytest.raises(remote.RemoteError, match="another domain"):
        remote.store_actor(bob.url, document(bob, inbox=inbox, shared=shared))
    bob.actor.refresh_from_db()
    assert VICTIM not in (bob.actor.inbox, bob.actor.shared_inbox)  # the kept actor is left as it was
    refused = ActivityLog.objects.get(kind=ActivityLog.Kind.FETCH, ok=False)
    assert refused.url == bob.url and "another domain" in refused.detail


def test_a_tenant_of_a_public_suffix_cannot_name_another_tenant_s_inbox(federation):
    alice = RemoteKey("https://alice.github.io/actor")
    with pytest.raises(remote.RemoteError):
        remote.store_actor(alice.url, document(alice, shared="https://bob.github.io/inbox"))


def test_inboxes_on_the_actor_s_own_domain_are_taken(federation, bob):
    """A server may serve its inboxes from another name of its own domain."""
    kept = remote.store_actor(
        bob.url, document(bob, inbox="https://inbox.remote.example/bob", shared="https://remote.example/inbox")
    )
    assert kept.inbox == "https://inbox.remote.example/bob" and kept.shared_inbox == "https://remote.example/inbox"


def test_a_follow_from_an_actor_whose_inbox_is_elsewhere_sends_nothing_there(federation, client, monkeypatch):
    """The first follow of an actor not kept here: its document is fetched to verify the
    signature, and refused for its inbox, so no Accept is queued for the victim."""
    monkeypatch.setattr(delivery, "_enqueue", lambda: None)
    mallory = RemoteKey(f"{REMOTE}/users/mallory")
    fetched = document(mallory, inbox=VICTIM)
    mallory.actor.delete()
    monkeypatch.setattr(remote, "fetch_document", lambda url: fetched)
    answer = mallory.post(client, follow(mallory))
    assert answer.status_code == 401
    assert not Follower.objects.exists() and not Delivery.objects.exists()
    assert not RemoteActor.objects.filter(url=mallory.url).exists()
    assert ActivityLog.objects.filter(kind=ActivityLog.Kind.FETCH, detail__contains="another domain").exists()


def test_an_actor_kept_with_an_inbox_elsewhere_is_sent_nothing(federation, client, bob, monkeypatch):
    """An actor kept before the rule (or written by hand) is held to it where the site sends."""
    monkeypatch.setattr(delivery, "_enqueue", lambda: None)
    RemoteActor.objects.filter(pk=bob.actor.pk).update(inbox=VICTIM, shared_inbox=VICTIM)
    assert bob.post(client, follow(bob)).status_code == 400
    assert not Delivery.objects.exists()
    Follower.objects.create(actor=bob.actor, follow_id=bob.url + "#f", state=Follower.State.ACCEPTED)
    carol = RemoteKey("https://third.example/users/carol")
    RemoteActor.objects.filter(pk=carol.actor.pk).update(shared_inbox=VICTIM)  # its own inbox is fine
    Follower.objects.create(actor=carol.actor, follow_id=carol.url + "#f", state=Follower.State.ACCEPTED)
    assert delivery.follower_inboxes() == [carol.url + "/inbox"]
