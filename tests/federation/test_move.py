"""A follower who moves (``Move`` from A to B, signed by A) keeps following as B, once B, fetched
fresh, names A in ``alsoKnownAs``; deliveries then go to B's inbox. Nothing else moves a follow."""

from __future__ import annotations

import json
import uuid

import pytest
from django.test import Client

from speakout.federation import delivery, remote
from speakout.federation.models import Follower, RemoteActor
from speakout.net.fetch import Fetched

pytestmark = pytest.mark.django_db
AS = "https://www.w3.org/ns/activitystreams"
NEW = "https://new.example/users/bob"


@pytest.fixture
def following(federation, bob):
    return Follower.objects.create(actor=bob.actor, follow_id=bob.url + "#follow", state=Follower.State.ACCEPTED)


@pytest.fixture
def new_account(monkeypatch):
    """The account at NEW as its server serves it; ``fetched`` records each fetch."""
    state = {"also": [], "fetched": []}

    def fake(url, **options):
        state["fetched"].append(url)
        document = {"@context": AS, "id": NEW, "type": "Person", "preferredUsername": "bob",
                    "inbox": NEW + "/inbox", "endpoints": {"sharedInbox": "https://new.example/inbox"},
                    "alsoKnownAs": state["also"]}  # fmt: skip
        return Fetched(url, 200, "application/activity+json", json.dumps(document).encode())

    monkeypatch.setattr(remote, "fetch", fake)
    return state


def move(remote_key, target: str = NEW, obj: str = "") -> dict:
    return {"@context": AS, "id": f"{remote_key.url}#move-{uuid.uuid4().hex}", "type": "Move",
            "actor": remote_key.url, "object": obj or remote_key.url, "target": target}  # fmt: skip


def test_a_follower_who_moved_follows_as_the_new_account(federation, bob, following, new_account):
    new_account["also"] = [bob.url]
    assert bob.post(Client(), move(bob)).status_code == 202
    follower = Follower.objects.get()
    assert follower.actor.url == NEW and follower.state == Follower.State.ACCEPTED
    assert RemoteActor.objects.get(url=bob.url).moved_to == NEW
    assert delivery.follower_inboxes() == ["https://new.example/inbox"]
    assert new_account["fetched"] == [NEW]


def test_a_move_the_new_account_does_not_confirm_changes_nothing(federation, bob, following, new_account):
    new_account["also"] = ["https://remote.example/users/someone-else"]
    assert bob.post(Client(), move(bob)).status_code == 403
    assert Follower.objects.get().actor == bob.actor
    assert delivery.follower_inboxes() == ["https://remote.example/inbox"]


def test_moves_that_are_not_a_follower_s_own_are_refused(federation, bob, following, new_account, client):
    new_account["also"] = [bob.url, "https://remote.example/users/carol"]
    # Someone else's move, signed by bob.
    assert bob.post(client, move(bob, obj="https://remote.example/users/carol")).status_code == 400
    # Unsigned.
    body = json.dumps(move(bob)).encode()
    assert client.post("/federation/inbox", body, content_type="application/activity+json").status_code == 401
    # To a blocked server: not even fetched.
    federation.blocked_domains = "new.example"
    federation.save()
    assert bob.post(client, move(bob)).status_code == 403
    assert new_account["fetched"] == []
    assert Follower.objects.get().actor == bob.actor


def test_a_move_from_someone_who_does_not_follow_is_ignored(federation, bob, new_account):
    new_account["also"] = [bob.url]
    answer = bob.post(Client(), move(bob))
    assert answer.status_code == 202 and not Follower.objects.exists() and new_account["fetched"] == []


def test_when_the_new_account_follows_already_one_follow_stays(federation, bob, following, new_account):
    new_account["also"] = [bob.url]
    moved = RemoteActor.objects.create(url=NEW, domain="new.example", inbox=NEW + "/inbox")
    Follower.objects.create(actor=moved, follow_id=NEW + "#follow", state=Follower.State.ACCEPTED)
    assert bob.post(Client(), move(bob)).status_code == 202
    assert [follower.actor.url for follower in Follower.objects.all()] == [NEW]
