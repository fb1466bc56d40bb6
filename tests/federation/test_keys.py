"""Key rotation, ours and theirs: a new key for the site actor changes its publicKey, signs every
delivery after it, and is announced with Update(actor) to each follower's server; a remote
signature that fails with a kept key is checked once more against a freshly fetched key."""

from __future__ import annotations

import io

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from wagtail.models import ModelLogEntry

from speakout.federation import delivery, keys, remote, signatures
from speakout.federation.models import Delivery, Follower, RemoteActor

from .helpers import BASE_URL, REMOTE, Inbox, RemoteKey

pytestmark = pytest.mark.django_db
ACTOR = f"{BASE_URL}/federation/actor"


def public_pem() -> str:
    return Client().get("/federation/actor").json()["publicKey"]["publicKeyPem"]


def as_verifier_sees(received: dict, inbox_url: str, pem: str) -> signatures.Incoming:
    """The delivery as the receiving server reads it, our actor kept there with ``pem``."""
    RemoteActor.objects.update_or_create(
        url=ACTOR,
        defaults={"domain": "testserver", "key_id": ACTOR + "#main-key", "public_key_pem": pem},
    )
    headers = {name: value for name, value in received["headers"].items()}
    return signatures.Incoming("POST", inbox_url, headers, received["body"])


def test_rotation_changes_the_public_key_signs_with_the_new_one_and_tells_followers(
    federation, bob, inbox, monkeypatch
):
    carol = RemoteKey(f"{REMOTE}/users/carol")  # bob's server: one shared inbox for both
    dave = RemoteKey("https://other.example/users/dave")
    for account in (bob, carol, dave):
        Follower.objects.create(actor=account.actor, state=Follower.State.ACCEPTED, follow_id=account.url + "#f")
    old = public_pem()
    out = io.StringIO()
    call_command("federation_rotate_key", stdout=out)
    new = public_pem()
    assert new != old and new == keys.current().public_pem and "2 inbox" in out.getvalue()
    (entry,) = ModelLogEntry.objects.filter(action="speakout_federation.rotate_key")
    assert entry.user is None and entry.data == {"inboxes": 2}  # the command: by the system
    updates = Delivery.objects.filter(payload__type="Update")
    assert sorted(updates.values_list("inbox", flat=True)) == sorted([f"{REMOTE}/inbox", "https://other.example/inbox"])
    assert all(row.payload["object"]["publicKey"]["publicKeyPem"] == new for row in updates)
    assert {row.payload["object"]["id"] for row in updates} == {ACTOR}

    # A delivery after the rotation verifies with the new key, and not with the old one.
    Delivery.objects.all().delete()
    Delivery.objects.create(activity_id=f"{BASE_URL}/x", inbox=inbox, payload={"id": f"{BASE_URL}/x", "type": "Note"})
    assert delivery.deliver_due() == {"sent": 1, "failed": 0}
    received = Inbox.received[-1]
    assert signatures.verify(as_verifier_sees(received, inbox, new)).url == ACTOR
    monkeypatch.setattr(remote, "fetch_document", _refuse)  # the retry with a fresh key finds nothing either
    with pytest.raises(signatures.SignatureError):
        signatures.verify(as_verifier_sees(received, inbox, old))


def _refuse(url: str):
    raise remote.RemoteError("not reachable in this test")


def test_a_remote_rotation_is_picked_up_by_fetching_the_key_once_more(federation, bob, client, monkeypatch):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    rotated = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rotated_pem = (
        rotated.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    fetched: list[str] = []

    def fetch_document(url: str) -> dict:
        fetched.append(url)
        return {"id": bob.url, "type": "Person", "preferredUsername": "bob", "inbox": bob.url + "/inbox",
                "publicKey": {"id": bob.key_id, "owner": bob.url, "publicKeyPem": rotated_pem}}  # fmt: skip

    monkeypatch.setattr(remote, "fetch_document", fetch_document)
    follow = {"@context": "https://www.w3.org/ns/activitystreams", "id": bob.url + "#follow-1", "type": "Follow",
              "actor": bob.url, "object": ACTOR}  # fmt: skip
    # Signed with the new key; the kept key is the old one: fetched once, then accepted.
    assert bob.post(client, follow, key=rotated).status_code == 202
    assert fetched == [bob.url]
    assert RemoteActor.objects.get(url=bob.url).public_key_pem == rotated_pem
    # Signed with a key that is neither: refused, and the key was fetched a moment ago, so it
    # is not fetched again (test_key_fetch_limits.py); once the window has passed, it is.
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert bob.post(client, {**follow, "id": bob.url + "#follow-2"}, key=stranger).status_code == 401
    assert fetched == [bob.url]
    cache.clear()
    assert bob.post(client, {**follow, "id": bob.url + "#follow-3"}, key=stranger).status_code == 401
    assert fetched == [bob.url, bob.url]


def test_the_speakout_command_rotates_the_key(federation, monkeypatch, capsys):
    from speakout import cli

    monkeypatch.setattr(cli, "_setup_django", lambda: None)  # already set up by the tests
    monkeypatch.setattr(cli, "_bring_database_up_to_date", lambda: None)
    # As execute_from_command_line runs it, without closing the test's database connection.
    monkeypatch.setattr(
        "django.core.management.execute_from_command_line", lambda argv: call_command(argv[1], *argv[2:])
    )
    old = public_pem()
    assert cli.main(["federation", "rotate-key"]) == 0
    assert public_pem() != old and "New key" in capsys.readouterr().out
