"""A Note's id names one Note of one account. A Create whose Note id is on another host is refused
(``test_federation.py::test_a_note_claiming_another_host_s_id_is_refused``); so is one whose id
is kept here for another account, or lies under another kept account's address on the same
server, so that an account cannot take (squat) the id of a Note another one wrote or will write,
nor attach its words to it; one under no account's address is kept only as its server serves it."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client
from django.utils import timezone

from speakout.discussion.models import Reply
from speakout.federation import remote
from speakout.federation.models import ActivityLog, FederatedReply, PublishedArticle

from .helpers import REMOTE, RemoteKey

pytestmark = pytest.mark.django_db
AS = "https://www.w3.org/ns/activitystreams"


@pytest.fixture
def client():
    return Client()


@pytest.fixture
def report(federation, site_builder, rules, settings):
    settings.SPEAKOUT_DISCUSSION_SECONDS_BETWEEN_REPLIES = 0
    return site_builder.report("Rivers")


@pytest.fixture
def mallory(db):
    return RemoteKey(f"{REMOTE}/users/mallory")


def create(account: RemoteKey, report, text: str, note_id: str, kind: str = "Create") -> dict:
    audience = {"to": AS + "#Public", "cc": account.url + "/followers"}
    return {"@context": AS, "id": f"{account.url}/activities/{uuid.uuid4().hex}", "type": kind,
            "actor": account.url, **audience,
            "object": {"id": note_id, "type": "Note", "attributedTo": account.url, **audience,
                       "inReplyTo": PublishedArticle.objects.get(page_id=report.pk).object_id,
                       "content": f"<p>{text}</p>", "published": timezone.now().isoformat()}}  # fmt: skip


def test_a_note_id_kept_for_another_account_is_refused_and_logged(
    federation, client, report, bob, mallory, served_notes
):
    note_id = f"{REMOTE}/notes/1"
    bobs = create(bob, report, "Bob's words", note_id)
    served_notes[note_id] = bobs["object"]
    assert bob.post(client, bobs).status_code == 202
    for kind in ("Create", "Update"):
        answer = mallory.post(client, create(mallory, report, "Mallory's words", note_id, kind))
        assert answer.status_code == 409
    kept = FederatedReply.objects.get(object_id=note_id)
    assert kept.actor == bob.actor and kept.reply.body == "Bob's words"
    assert list(Reply.objects.values_list("body", flat=True)) == ["Bob's words"]
    refused = ActivityLog.objects.filter(kind=ActivityLog.Kind.INBOX, ok=False, host="remote.example")
    assert refused.filter(detail__contains="another account").count() == 2
    # Bob's own retry is still "already received".
    assert bob.post(client, create(bob, report, "Bob's words", note_id)).status_code == 202


def test_a_note_id_under_another_kept_account_s_address_is_refused(federation, client, report, bob, mallory):
    """Servers that put a Note under its author's address (Mastodon's /users/bob/statuses/N)
    make ids easy to guess: one taken first by another account of that server is refused, so
    Bob's Note, when it comes, is his."""
    note_id = f"{bob.url}/statuses/115000000000000001"
    answer = mallory.post(client, create(mallory, report, "Mallory's words", note_id))
    assert answer.status_code == 403
    assert not Reply.objects.exists()
    assert bob.post(client, create(bob, report, "Bob's words", note_id)).status_code == 202
    assert FederatedReply.objects.get(object_id=note_id).actor == bob.actor
    # Mallory's own address is hers to use.
    own = f"{mallory.url}/statuses/115000000000000002"
    assert mallory.post(client, create(mallory, report, "Mallory's own", own)).status_code == 202


def test_a_note_id_taken_while_the_reply_was_being_kept_is_refused_not_a_server_error(
    federation, client, report, bob, mallory, monkeypatch, served_notes
):
    """Two deliveries of one id at once (a squatter racing the author, on a server that served the
    Note as the squatter's and then as the author's): the second one to store its row is refused
    and its reply not kept, and the first one's row is left as it is."""
    note_id = f"{REMOTE}/notes/2"
    taken_by_bob = create(bob, report, "Bob's words", note_id)
    mallorys = create(mallory, report, "Mallory's words", note_id)
    served_notes[note_id] = mallorys["object"]

    def meanwhile(actor) -> None:
        if actor == mallory.actor:
            served_notes[note_id] = taken_by_bob["object"]
            assert bob.post(Client(), taken_by_bob).status_code == 202

    monkeypatch.setattr(remote, "fetch_avatar", meanwhile)
    answer = mallory.post(client, mallorys)
    assert answer.status_code == 409
    assert list(Reply.objects.values_list("body", flat=True)) == ["Bob's words"]
    assert FederatedReply.objects.get(object_id=note_id).actor == bob.actor


def test_a_note_id_not_under_its_author_s_address_is_taken_as_its_server_serves_it(
    federation, client, report, bob, mallory, served_notes
):
    """Misskey's /notes/ID and Pleroma's /objects/UUID are under no account's address: another
    account of Bob's server could send a Create of the id Bob's next Note will have before Bob
    writes it. Such a Note is fetched from its id (signed) and kept only if its server says its
    author is the sender."""
    note_id = f"{REMOTE}/notes/9xk2a001"
    answer = mallory.post(client, create(mallory, report, "Mallory's words", note_id))
    assert answer.status_code == 503  # not served yet: the sender may try again later
    bobs = create(bob, report, "Bob's words", note_id)
    served_notes[note_id] = bobs["object"]
    answer = mallory.post(client, create(mallory, report, "Mallory's words", note_id))
    assert answer.status_code == 403
    assert not Reply.objects.exists()
    refused = ActivityLog.objects.filter(kind=ActivityLog.Kind.INBOX, ok=False, host="remote.example")
    assert refused.filter(detail__contains="its server").exists()
    assert bob.post(client, bobs).status_code == 202
    assert FederatedReply.objects.get(object_id=note_id).actor == bob.actor
    assert list(Reply.objects.values_list("body", flat=True)) == ["Bob's words"]
    # An id under the sender's own address needs no fetch (Mastodon's /users/bob/statuses/N).
    own = f"{bob.url}/statuses/115000000000000003"
    assert bob.post(client, create(bob, report, "Bob again", own)).status_code == 202


def test_the_fetch_of_a_note_counts_against_its_server_s_reply_allowance(
    federation, client, report, bob, settings, served_notes
):
    """Each such Create makes the site fetch from the sender's server, holding a web thread up to
    the fetch's timeout: a server sending Creates without end must not make it fetch without end."""
    settings.SPEAKOUT_FEDERATION_REPLIES_PER_DOMAIN_PER_HOUR = 2
    answers = [bob.post(client, create(bob, report, "Words", f"{REMOTE}/notes/{n}")).status_code for n in range(4)]
    assert answers == [503, 503, 429, 429]
    assert len(served_notes.asked) == 2
