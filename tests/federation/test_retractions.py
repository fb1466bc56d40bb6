"""Retractions of a member's federated reply: every server that got its Create gets its Delete."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth import get_user_model

from speakout.discussion import services
from speakout.discussion.models import Reply, Thread
from speakout.discussion.services import Author, submit_reply
from speakout.federation.models import Delivery, FederatedReply, Follower

from .helpers import RemoteKey

pytestmark = pytest.mark.django_db

CAROL_INBOX = "https://elsewhere.example/inbox"


def make_user(name: str):
    from allauth.account.models import EmailAddress

    user = get_user_model().objects.create_user(name, email=f"{name}@example.org", first_name=name.title())
    user.set_password("a long enough password 42")
    user.save()
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


@pytest.fixture
def setup(federation, site_builder, bob, rules):
    federation.federate_member_replies = True
    federation.save()
    Follower.objects.create(actor=bob.actor, state=Follower.State.ACCEPTED, follow_id=bob.url + "#f")
    report = site_builder.report("Rivers", standfirst="Dry.")
    thread = Thread.objects.get(key=report.thread_key)
    return report, thread


def _answer_carol(thread: Thread) -> tuple[Reply, Reply]:
    """Carol (not a follower) replies from the Fediverse; a member answers her, federated."""
    carol = RemoteKey("https://elsewhere.example/users/carol")  # her server gets the Note as a mention
    data = {"thread": thread.key, "name": "Carol", "email": "carol@example.org", "body": "From the Fediverse."}
    parent = submit_reply(
        thread=thread, data=data, author=Author(guest_token=uuid.uuid4().hex), checks=[], check_form_token=False
    ).stored
    FederatedReply.objects.create(reply=parent, object_id=carol.url + "/statuses/1", actor=carol.actor)
    Delivery.objects.all().delete()
    member = make_user("ines")
    data = {"thread": thread.key, "body": "Answering Carol, signed.", "federate": True, "parent": parent.pk}
    reply = submit_reply(thread=thread, data=data, author=Author(user=member), checks=[], check_form_token=False).stored
    return parent, reply


def _inboxes(kind: str) -> set[str]:
    return set(Delivery.objects.filter(payload__type=kind).values_list("inbox", flat=True))


def test_a_deleted_reply_s_delete_skips_the_mentioned_writer_s_server_that_got_its_create(setup):
    report, thread = setup
    _parent, reply = _answer_carol(thread)
    creates = _inboxes("Create")
    assert CAROL_INBOX in creates
    services.delete_permanently(reply, reason="Deleted by its author.")
    deletes = _inboxes("Delete")
    assert creates <= deletes, f"Create went to {sorted(creates)}, Delete only to {sorted(deletes)}"


def test_a_removed_reply_s_delete_reaches_the_mentioned_server_after_its_parent_was_deleted(setup):
    report, thread = setup
    parent, reply = _answer_carol(thread)
    creates = _inboxes("Create")
    assert CAROL_INBOX in creates
    services.delete_permanently(parent, reason="Deleted by Carol.")
    Delivery.objects.all().delete()
    services.set_status(reply, Reply.Status.TRASH, reason="Off topic.")
    deletes = _inboxes("Delete")
    assert creates <= deletes, f"Create went to {sorted(creates)}, Delete only to {sorted(deletes)}"
