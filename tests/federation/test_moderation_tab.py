"""The Fediverse tab of the moderation queue: the replies that came from the Fediverse, with the
proven handle linking to the remote profile and the actor's server, and the actions approve,
remove, ban the actor (the commenter's ban) and block its domain."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client

from speakout.discussion.models import DiscussionSettings, Reply
from speakout.federation.models import FederationSettings, PublishedArticle
from tests.publishing.helpers import make_reply

from .helpers import BASE_URL

pytestmark = pytest.mark.django_db
AS = "https://www.w3.org/ns/activitystreams"
TAB = "/admin/replies/fediverse/"
BLOCK = "/admin/federation/block-domain/"


@pytest.fixture
def report(federation, site_builder, settings):
    settings.SPEAKOUT_DISCUSSION_SECONDS_BETWEEN_REPLIES = 0
    DiscussionSettings.objects.update_or_create(pk=1, defaults={"hold_first_reply": True})
    return site_builder.report("Rivers")


def reply_from(remote, report, text: str) -> Reply:
    note_id = f"{remote.url}/notes/{uuid.uuid4().hex}"
    audience = {"to": AS + "#Public", "cc": remote.url + "/followers"}
    activity = {"@context": AS, "id": note_id + "#create", "type": "Create", "actor": remote.url, **audience,
                "object": {"id": note_id, "type": "Note", "attributedTo": remote.url, **audience,
                           "inReplyTo": PublishedArticle.objects.get(page_id=report.pk).object_id,
                           "content": f"<p>{text}</p>"}}  # fmt: skip
    assert remote.post(Client(), activity).status_code == 202
    return Reply.objects.get(body=text)


def test_the_tab_lists_fediverse_replies_with_handle_profile_server_and_actions(federation, report, bob, admin):
    from speakout.discussion.models import Thread

    remote = reply_from(bob, report, "Seen from Mastodon")
    assert remote.status == Reply.Status.PENDING
    make_reply(Thread.objects.get(key=report.thread_key), body="Typed in the form")

    html = admin.get(TAB).content.decode()
    assert "Seen from Mastodon" in html and "Typed in the form" not in html
    assert 'href="https://remote.example/users/bob"' in html and "@bob@remote.example" in html
    assert "server remote.example" in html
    assert f'value="approve:{remote.pk}"' in html and f'value="trash:{remote.pk}"' in html
    assert f"/admin/replies/commenters/{remote.commenter_id}/#ban" in html  # the actor's ban
    assert f"{BLOCK}?domain=remote.example" in html
    assert "Fediverse (1)" in admin.get("/admin/").content.decode()

    assert admin.post(TAB, {"single": f"approve:{remote.pk}"}).status_code == 302
    remote.refresh_from_db()
    assert remote.status == Reply.Status.APPROVED
    assert "Seen from Mastodon" in admin.get(TAB).content.decode()  # published ones stay listed
    admin.post(TAB, {"single": f"trash:{remote.pk}"})
    remote.refresh_from_db()
    assert remote.status == Reply.Status.TRASH
    assert "Seen from Mastodon" not in admin.get(TAB).content.decode()


def test_blocking_the_domain_refuses_the_server_and_can_trash_what_waits(federation, report, bob, admin):
    from speakout.federation import delivery
    from speakout.federation.models import Follower, RemoteActor

    Follower.objects.create(actor=bob.actor, follow_id=bob.url + "#f", state=Follower.State.ACCEPTED)
    elsewhere = RemoteActor.objects.create(url="https://other.example/users/eve", domain="other.example",
                                           inbox="https://other.example/users/eve/inbox")  # fmt: skip
    Follower.objects.create(actor=elsewhere, follow_id=elsewhere.url + "#f", state=Follower.State.ACCEPTED)
    assert sorted(delivery.follower_inboxes()) == [
        "https://other.example/users/eve/inbox",
        "https://remote.example/inbox",
    ]
    waiting = reply_from(bob, report, "Waiting from afar")
    confirm = admin.get(BLOCK, {"domain": "remote.example"})
    assert confirm.status_code == 200 and "remote.example" in confirm.content.decode()
    assert FederationSettings.load().domain_list() == []  # a GET changes nothing

    answer = admin.post(BLOCK, {"domain": "remote.example", "trash_waiting": "yes", "next": TAB})
    assert answer.status_code == 302 and answer["Location"] == TAB
    assert FederationSettings.load().domain_list() == ["remote.example"]
    # Nothing more is sent to the blocked server's followers; the others still get everything.
    assert delivery.follower_inboxes() == ["https://other.example/users/eve/inbox"]
    waiting.refresh_from_db()
    assert waiting.status == Reply.Status.TRASH
    # The server is refused from now on, and the link is no longer offered.
    note_id = f"{bob.url}/notes/{uuid.uuid4().hex}"
    follow = {
        "@context": AS,
        "id": note_id,
        "type": "Follow",
        "actor": bob.url,
        "object": f"{BASE_URL}/federation/actor",
    }
    assert bob.post(Client(), follow).status_code == 403
    assert admin.post(BLOCK, {"domain": "remote.example"}).status_code == 302
    assert FederationSettings.load().domain_list() == ["remote.example"]  # not twice
    # Only a server's name: nothing that would add other lines or match more.
    for wrong in ("a.example\nb.example", "remote.example/path", "example", ".example"):
        admin.post(BLOCK, {"domain": wrong})
    assert FederationSettings.load().domain_list() == ["remote.example"]


def test_a_moderator_without_the_federation_settings_cannot_block(federation, report, bob, django_user_model):
    reply_from(bob, report, "Hello from afar")
    moderators = Group.objects.create(name="Moderators only")
    moderators.permissions.add(
        Permission.objects.get(codename="access_admin"), Permission.objects.get(codename="change_reply")
    )
    user = django_user_model.objects.create_user("mod", "mod@example.org", "pw")
    user.groups.add(moderators)
    client = Client()
    client.force_login(user)
    html = client.get(TAB).content.decode()
    assert "Hello from afar" in html and BLOCK not in html
    client.post(BLOCK, {"domain": "remote.example"})
    assert FederationSettings.load().domain_list() == []
