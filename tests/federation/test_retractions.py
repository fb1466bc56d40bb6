"""Retractions of a member's federated reply: every server that got its Create gets its Delete."""

from __future__ import annotations

import uuid

import pytest

from speakout.discussion import services
from speakout.discussion.models import Reply, Thread
from speakout.discussion.services import Author, submit_reply
from speakout.federation.models import Delivery, FederatedReply

from .helpers import RemoteKey, make_user

pytestmark = pytest.mark.django_db

CAROL_INBOX = "https://elsewhere.example/inbox"


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


def test_a_deleted_reply_s_delete_skips_the_mentioned_writer_s_server_that_got_its_create(member_replies):
    report, thread = member_replies
    _parent, reply = _answer_carol(thread)
    creates = _inboxes("Create")
    assert CAROL_INBOX in creates
    services.delete_permanently(reply, reason="Deleted by its author.")
    deletes = _inboxes("Delete")
    assert creates <= deletes, f"Create went to {sorted(creates)}, Delete only to {sorted(deletes)}"


def test_a_removed_reply_s_delete_reaches_the_mentioned_server_after_its_parent_was_deleted(member_replies):
    report, thread = member_replies
    parent, reply = _answer_carol(thread)
    creates = _inboxes("Create")
    assert CAROL_INBOX in creates
    services.delete_permanently(parent, reason="Deleted by Carol.")
    Delivery.objects.all().delete()
    services.set_status(reply, Reply.Status.TRASH, reason="Off topic.")
    deletes = _inboxes("Delete")
    assert creates <= deletes, f"Create went to {sorted(creates)}, Delete only to {sorted(deletes)}"
