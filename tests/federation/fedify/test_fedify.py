"""Speakout and a real Fedify server, both on loopback.

The peer follows the site and is accepted; a published report reaches the peer as a
``Create(Article)`` that Fedify verified (it records only activities whose signature it checked);
the peer's reply lands held, a moderator approves it and it shows on the page; the peer's
``Update`` and ``Delete`` work, and an evidence hold survives a ``Delete``; delivery survives the
peer being down.
"""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from speakout.discussion.models import DiscussionSettings, Reply
from speakout.discussion.services import set_status
from speakout.federation import delivery
from speakout.federation.models import Delivery, FederationSettings, Follower, PublishedArticle
from speakout.safety.evidence import hold_reply
from tests.helpers import SiteBuilder

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("fedify")]
AS = "https://www.w3.org/ns/activitystreams"


@pytest.fixture
def site(live_server, settings, fedify_peer):
    settings.BASE_URL = live_server.url
    settings.SPEAKOUT_FETCH_ALLOWED_NETWORKS = ["127.0.0.0/8", "::1/128"]
    settings.SPEAKOUT_DISCUSSION_SECONDS_BETWEEN_REPLIES = 0
    settings.ALLOWED_HOSTS = ["*"]
    config = FederationSettings.load()
    config.enabled = True
    config.save()
    DiscussionSettings.objects.update_or_create(pk=1, defaults={"hold_first_reply": True})
    return live_server.url


def actor(base: str) -> str:
    return f"{base}/federation/actor"


def follow(peer, base: str) -> dict:
    activity = {"@context": AS, "id": f"{peer.actor}#follows/{uuid.uuid4().hex}", "type": "Follow",
                "actor": peer.actor, "object": actor(base)}  # fmt: skip
    answer = peer.send(activity, to_actor=actor(base), inbox=f"{base}/federation/inbox")
    assert answer == {"ok": True}, answer
    return activity


def note(peer, in_reply_to: str, content: str, kind: str = "Create", note_id: str = "") -> tuple[dict, str]:
    note_id = note_id or f"{peer.base_url}/notes/{uuid.uuid4().hex}"
    audience = {"to": AS + "#Public"}
    activity = {
        "@context": AS, "id": f"{note_id}#{kind.lower()}-{uuid.uuid4().hex[:6]}", "type": kind, "actor": peer.actor,
        **audience,
        "object": {"id": note_id, "type": "Note", "attributedTo": peer.actor, "inReplyTo": in_reply_to,
                   "content": content, **audience},
    }  # fmt: skip
    return activity, note_id


def test_follow_publish_reply_moderate_update_delete_with_fedify(site, fedify_peer, django_user_model):
    peer, base = fedify_peer, site
    follow_activity = follow(peer, base)
    accepted = peer.wait_for(lambda a: a.get("type") == "Accept")
    assert accepted["signer"] == actor(base)
    assert Follower.objects.get().state == Follower.State.ACCEPTED
    assert follow_activity["id"] in str(accepted["activity"]["object"])

    report = SiteBuilder().report("Rivers run dry", standfirst="A report.")
    created = peer.wait_for(lambda a: a.get("type") == "Create")
    assert created["signer"] == actor(base)
    article = created["activity"]["object"]
    assert article["type"] == "Article" and article["name"] == "Rivers run dry"
    article_id = PublishedArticle.objects.get(page_id=report.pk).object_id
    assert article["id"] == article_id

    # The peer replies: held (a first reply), approved by a moderator, then on the page.
    reply_activity, note_id = note(peer, article_id, "<p>Thank you for this.</p>")
    assert peer.send(reply_activity, to_actor=actor(base), inbox=f"{base}/federation/inbox") == {"ok": True}
    reply = Reply.objects.get()
    assert reply.status == Reply.Status.PENDING
    assert "Thank you for this." not in Client().get(report.url).content.decode()
    set_status(reply, Reply.Status.APPROVED)
    assert "Thank you for this." in Client().get(report.url).content.decode()

    update, _ = note(peer, article_id, "<p>Thank you, truly.</p>", kind="Update", note_id=note_id)
    assert peer.send(update, to_actor=actor(base), inbox=f"{base}/federation/inbox") == {"ok": True}
    assert "Thank you, truly." in Client().get(report.url).content.decode()

    # Held as evidence: the remote Delete does not remove it.
    moderator = django_user_model.objects.create_user("moderator", is_staff=True, is_superuser=True)
    hold_reply(Reply.objects.get(pk=reply.pk), actor=moderator, reason="evidence")
    delete = {"@context": AS, "id": f"{note_id}#delete", "type": "Delete", "actor": peer.actor, "to": AS + "#Public",
              "object": {"id": note_id, "type": "Tombstone"}}  # fmt: skip
    assert peer.send(delete, to_actor=actor(base), inbox=f"{base}/federation/inbox") == {"ok": True}
    assert Reply.objects.filter(pk=reply.pk).exists()

    # A second reply, not held: the remote Delete removes it.
    second, second_id = note(peer, article_id, "<p>Another thought.</p>")
    assert peer.send(second, to_actor=actor(base), inbox=f"{base}/federation/inbox") == {"ok": True}
    other = Reply.objects.exclude(pk=reply.pk).get()
    delete2 = {**delete, "id": f"{second_id}#delete", "object": {"id": second_id, "type": "Tombstone"}}
    assert peer.send(delete2, to_actor=actor(base), inbox=f"{base}/federation/inbox") == {"ok": True}
    assert not Reply.objects.filter(pk=other.pk).exists()


def test_a_blocked_domain_is_refused_and_delivery_survives_the_peer_being_down(site, fedify_peer):
    peer, base = fedify_peer, site
    follow(peer, base)
    peer.wait_for(lambda a: a.get("type") == "Accept" and a.get("actor") == actor(base))
    peer.set_down(True)
    try:
        report = SiteBuilder().report("While the peer sleeps")
        pending = Delivery.objects.get(payload__type="Create")
        assert pending.status == Delivery.Status.PENDING and pending.attempts == 1
    finally:
        peer.set_down(False)
    Delivery.objects.filter(pk=pending.pk).update(next_attempt_at=pending.created_at)
    assert delivery.deliver_due()["sent"] == 1
    article_id = PublishedArticle.objects.get(page_id=report.pk).object_id
    peer.wait_for(lambda a: a.get("type") == "Create" and a["object"]["id"] == article_id)

    config = FederationSettings.load()
    config.blocked_domains = "127.0.0.1"
    config.save()
    activity, _ = note(peer, article_id, "<p>From a blocked server.</p>")
    answer = peer.send(activity, to_actor=actor(base), inbox=f"{base}/federation/inbox")
    assert answer["ok"] is False and "403" in answer["error"]
    assert not Reply.objects.exists()


def test_a_member_s_reply_reaches_the_peer_signed_a_guest_s_never_and_a_new_key_verifies(
    site, fedify_peer, django_user_model
):
    from allauth.account.models import EmailAddress

    from speakout.discussion.models import Thread
    from speakout.discussion.services import Author, submit_reply
    from speakout.federation import keys, replies_out

    peer, base = fedify_peer, site
    config = FederationSettings.load()
    config.federate_member_replies = True
    config.save()
    DiscussionSettings.objects.update_or_create(pk=1, defaults={"hold_first_reply": False})
    follow(peer, base)
    peer.wait_for(lambda a: a.get("type") == "Accept" and a.get("actor") == actor(base))
    report = SiteBuilder().report("Members write back")
    article_id = PublishedArticle.objects.get(page_id=report.pk).object_id
    peer.wait_for(lambda a: a.get("type") == "Create" and a["object"]["id"] == article_id)
    thread = Thread.objects.get(key=report.thread_key)
    member = django_user_model.objects.create_user("ines", email="ines@example.org", password="a long password 42")
    EmailAddress.objects.create(user=member, email=member.email, verified=True, primary=True)

    def reply(author: Author, body: str) -> Reply:
        data = {"thread": thread.key, "name": "A guest", "email": "guest@example.org", "body": body, "federate": True}
        result = submit_reply(thread=thread, data=data, author=author, checks=[], check_form_token=False)
        assert result.ok and result.stored.status == Reply.Status.APPROVED
        return result.stored

    guest = reply(Author(guest_token=uuid.uuid4().hex, client_hash=uuid.uuid4().hex), "A guest's words.")
    mine = reply(Author(user=member), "A member's words.")
    created = peer.wait_for(lambda a: a.get("type") == "Create" and a["object"]["id"] == replies_out.note_id(mine))
    assert created["signer"] == actor(base)  # Fedify verified the signature before recording it
    note_doc = created["activity"]["object"]
    assert note_doc["type"] == "Note" and note_doc["inReplyTo"] == article_id
    assert note_doc["attributedTo"] == actor(base) and "A member's words." in note_doc["content"]
    # The guest's reply went first and never arrived: nothing about it was recorded.
    assert not [item for item in peer.received() if "A guest's words." in str(item)]
    assert replies_out.note_id(guest) not in str(peer.received())

    # A new key: the peer hears Update(actor) and verifies what is signed with the new key.
    old_pem = keys.current().public_pem
    keys.rotate_and_announce()
    updated = peer.wait_for(lambda a: a.get("type") == "Update" and "publicKey" in str(a.get("object")))
    assert updated["signer"] == actor(base) and old_pem not in str(updated["activity"])
    after = reply(Author(user=member), "Written after the new key.")
    signed = peer.wait_for(lambda a: a.get("type") == "Create" and a["object"]["id"] == replies_out.note_id(after))
    assert signed["signer"] == actor(base)


def test_a_follower_who_moves_keeps_following_as_the_new_account(site, fedify_peer):
    """alice moves to alice-moved (whose alsoKnownAs names alice, as Fedify serves it): the
    follow moves, and the next report reaches the peer, signed, for the new account."""
    peer, base = fedify_peer, site
    follow(peer, base)
    assert Follower.objects.get().actor.url == peer.actor
    moved = f"{peer.base_url}/users/alice-moved"
    move = {"@context": AS, "id": f"{peer.actor}#moves/{uuid.uuid4().hex}", "type": "Move", "actor": peer.actor,
            "object": peer.actor, "target": moved, "to": AS + "#Public"}  # fmt: skip
    assert peer.send(move, to_actor=actor(base), inbox=f"{base}/federation/inbox") == {"ok": True}
    assert Follower.objects.get().actor.url == moved
    assert Follower.objects.get().state == Follower.State.ACCEPTED

    SiteBuilder().report("After the move")
    created = peer.wait_for(lambda a: a.get("type") == "Create" and "After the move" in str(a))
    assert created["signer"] == actor(base)
