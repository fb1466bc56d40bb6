"""Members' replies to the Fediverse: who may (a verified account that chose it, never a guest or
a pseudonym), when (published, and only then), what goes (a Note from the site's actor), and how
every later change reaches followers (Update, Delete) exactly once."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from speakout.discussion import services
from speakout.discussion.models import Reply, Thread
from speakout.discussion.services import Author, set_status, submit_reply
from speakout.federation import replies_out
from speakout.federation.models import Delivery, FederatedReply, PublishedArticle

from .helpers import BASE_URL, REMOTE, RemoteKey, make_user

pytestmark = pytest.mark.django_db
AS = "https://www.w3.org/ns/activitystreams"
ACTOR = f"{BASE_URL}/federation/actor"
ACTIVITY = "application/activity+json"


@pytest.fixture
def setup(member_replies):
    Delivery.objects.all().delete()  # the report's own Create
    return member_replies


def post(thread: Thread, author: Author, body: str = "My reply.", parent: Reply | None = None, federate=True):
    data = {"thread": thread.key, "name": "Robin", "email": "robin@example.org", "body": body,
            "parent": parent.pk if parent else "", "federate": federate}  # fmt: skip
    result = submit_reply(thread=thread, data=data, author=author, checks=[], check_form_token=False)
    assert result.ok, result.errors
    return result.stored


def sent(kind: str | None = None) -> list[dict]:
    rows = Delivery.objects.order_by("pk")
    return [row.payload for row in rows if kind is None or row.payload["type"] == kind]


def test_a_member_s_published_reply_goes_out_as_a_note_from_the_site_actor(setup):
    report, thread = setup
    member = make_user("ines")
    reply = post(thread, Author(user=member), "Thank you for *this*.")
    assert reply.status == Reply.Status.APPROVED
    (create,) = sent()
    assert create["type"] == "Create" and create["actor"] == ACTOR
    assert Delivery.objects.get().inbox == f"{REMOTE}/inbox"
    note = create["object"]
    article = PublishedArticle.objects.get(page_id=report.pk).object_id
    assert note["type"] == "Note" and note["attributedTo"] == ACTOR and note["inReplyTo"] == article
    assert note["id"] == f"{BASE_URL}/discussion/reply/{reply.pk}/"
    assert "<em>this</em>" in note["content"] and note["content"].endswith("<p>\u2014 Ines</p>")
    assert note["to"] == [f"{AS}#Public"] and note["cc"] == [f"{BASE_URL}/federation/followers"]
    assert "tag" not in note  # the writer's name is a byline, not a mention
    assert FederatedReply.objects.get(reply=reply).announced


@pytest.mark.parametrize("who", ["guest", "pseudonym", "unverified", "not ticked", "site says no"])
def test_guest_and_pseudonymous_replies_never_leave_the_site(setup, federation, who):
    report, thread = setup
    if who == "guest":
        author = Author(guest_token=uuid.uuid4().hex, client_hash=uuid.uuid4().hex)
    elif who == "pseudonym":
        author = Author(user=make_user("nightowl", pseudonym=True))
    elif who == "unverified":
        author = Author(user=make_user("claims", verified=False))
    else:
        author = Author(user=make_user("ines"))
    if who == "site says no":
        federation.federate_member_replies = False
        federation.save()
    reply = post(thread, author, federate=who != "not ticked")
    assert reply.status == Reply.Status.APPROVED
    set_status(reply, Reply.Status.PENDING)
    set_status(reply, Reply.Status.APPROVED)
    services.edit_reply(reply, "Edited.", None, owner_confirmed=True)
    assert sent() == [] and not FederatedReply.objects.exists()
    answer = Client().get(f"/discussion/reply/{reply.pk}/", HTTP_ACCEPT=ACTIVITY)
    assert answer.status_code == 302 and "Accept" in answer["Vary"]  # the page, never a Note


def test_a_held_reply_goes_out_on_approval_and_every_later_change_follows_once(setup, rules):
    report, thread = setup
    rules.hold_first_reply = True
    rules.save()
    member = make_user("ines")
    from speakout.discussion.policy import TrustCheck  # the first-reply hold

    data = {"thread": thread.key, "body": "Held first.", "federate": True}
    reply = submit_reply(
        thread=thread, data=data, author=Author(user=member), checks=[TrustCheck()], check_form_token=False
    ).stored
    assert reply.status == Reply.Status.PENDING and sent() == []
    set_status(reply, Reply.Status.APPROVED)
    assert [p["type"] for p in sent()] == ["Create"]
    replies_out.sync(reply)  # nothing changed: nothing sent
    set_status(reply, Reply.Status.APPROVED)
    assert [p["type"] for p in sent()] == ["Create"]

    services.edit_reply(Reply.objects.get(pk=reply.pk), "Held first, then edited.", None, owner_confirmed=True)
    update = sent("Update")[0]["object"]
    assert "then edited" in update["content"] and "updated" in update

    set_status(reply, Reply.Status.TRASH)  # removed by a moderator
    assert sent("Delete")[0]["object"] == {"id": update["id"], "type": "Tombstone"}
    services.edit_reply(Reply.objects.get(pk=reply.pk), "Edited in the trash.", None, owner_confirmed=True)
    set_status(reply, Reply.Status.SPAM)
    assert [p["type"] for p in sent()] == ["Create", "Update", "Delete"]

    set_status(reply, Reply.Status.APPROVED)  # put back: the Fediverse gets it again
    assert [p["type"] for p in sent()] == ["Create", "Update", "Delete", "Create"]
    services.delete_permanently(Reply.objects.get(pk=reply.pk))
    assert [p["type"] for p in sent()] == ["Create", "Update", "Delete", "Create", "Delete"]


def test_a_ban_a_hidden_thread_and_an_unpublished_report_send_delete(setup):
    report, thread = setup
    first, second = make_user("ines"), make_user("omar")
    banned = post(thread, Author(user=first), "By Ines.")
    kept = post(thread, Author(user=second), "By Omar.")
    assert len(sent("Create")) == 2
    services.ban_commenter(banned.commenter, reason="abuse")
    assert [d["object"]["id"] for d in sent("Delete")] == [replies_out.note_id(banned)]
    services.unban_commenter(Reply.objects.get(pk=banned.pk).commenter)
    assert sent("Create")[-1]["object"]["id"] == replies_out.note_id(banned)
    services.ban_commenter(Reply.objects.get(pk=banned.pk).commenter, reason="abuse again")
    assert len(sent("Delete")) == 2

    thread.status = Thread.Status.HIDDEN
    thread.save()
    assert [d["object"]["id"] for d in sent("Delete")][2:] == [replies_out.note_id(kept)]
    thread.status = Thread.Status.OPEN
    thread.save()
    assert sent("Create")[-1]["object"]["id"] == replies_out.note_id(kept)  # shown again, sent again

    report.unpublish()
    deletes = [d["object"]["id"] for d in sent("Delete")]
    assert deletes[-2:] == [PublishedArticle.objects.get(page_id=report.pk).object_id, replies_out.note_id(kept)]


def test_an_answer_to_a_fediverse_reply_answers_its_note_and_mentions_its_writer(setup):
    report, thread = setup
    carol = RemoteKey("https://elsewhere.example/users/carol")
    theirs = post(thread, Author(guest_token="g", client_hash="c"), "From the Fediverse.", federate=False)
    FederatedReply.objects.create(reply=theirs, object_id="https://elsewhere.example/notes/1", actor=carol.actor)
    mine = post(thread, Author(user=make_user("ines")), "An answer.", parent=theirs)
    create = sent("Create")[0]
    note = create["object"]
    assert note["inReplyTo"] == "https://elsewhere.example/notes/1"
    assert carol.url in note["cc"] and carol.url in create["cc"]
    assert note["tag"] == [{"type": "Mention", "href": carol.url, "name": "@carol@elsewhere.example"}]
    assert "@carol@elsewhere.example</a>" in note["content"]
    inboxes = set(Delivery.objects.filter(payload__type="Create").values_list("inbox", flat=True))
    assert inboxes == {f"{REMOTE}/inbox", "https://elsewhere.example/inbox"}
    # An answer to a local reply that never left answers the report itself.
    local = post(thread, Author(user=make_user("omar")), "Local.", federate=False)
    again = post(thread, Author(user=make_user("lena")), "To Omar.", parent=local)
    last = sent("Create")[-1]["object"]
    assert last["id"] == replies_out.note_id(again)
    assert last["inReplyTo"] == PublishedArticle.objects.get(page_id=report.pk).object_id
    assert mine.pk != again.pk


def test_the_reply_s_address_answers_activity_json_with_the_note_and_never_from_the_cache(setup):
    report, thread = setup
    reply = post(thread, Author(user=make_user("ines")), "Negotiated.")
    client = Client()
    path = f"/discussion/reply/{reply.pk}/"
    for accept in (ACTIVITY, f'application/ld+json; profile="{AS}"'):
        answer = client.get(path, HTTP_ACCEPT=accept)
        assert answer.status_code == 200 and answer["Content-Type"] == ACTIVITY and "Accept" in answer["Vary"]
        assert answer.json()["type"] == "Note" and answer.json()["id"] == BASE_URL + path
    html = client.get(path)
    assert html.status_code == 302 and html["Location"].endswith(f"#reply-{reply.pk}") and "Accept" in html["Vary"]
    assert client.get(path, HTTP_ACCEPT=ACTIVITY).json()["type"] == "Note"  # not the redirect, kept or not
    page = client.get(report.url)
    assert "Negotiated." in page.content.decode() and "Accept" in page["Vary"]
    set_status(reply, Reply.Status.TRASH)
    assert client.get(path, HTTP_ACCEPT=ACTIVITY).status_code == 404  # gone from the Fediverse and from here


def test_the_form_offers_the_box_to_members_only_and_carries_it(setup, client, settings):
    settings.SPEAKOUT_DISCUSSION_SECONDS_BETWEEN_REPLIES = 0
    report, thread = setup
    label = "Also post this reply to the Fediverse"
    assert label not in client.get(report.url).content.decode()  # guests (and the page cache) never see it
    client.force_login(make_user("nightowl", pseudonym=True))
    assert label not in client.get(report.url).content.decode()
    client.force_login(make_user("ines"))
    assert label in client.get(report.url).content.decode()

    headers = {"HTTP_ORIGIN": "http://testserver", "HTTP_SEC_FETCH_SITE": "same-origin"}
    from tests.discussion.helpers import old_form_token

    data = {"thread": thread.key, "body": "Posted with the box.", "form_token": old_form_token(thread.key),
            "submission_id": uuid.uuid4().hex, "federate": "on"}  # fmt: skip
    assert client.post("/discussion/post/", data, **headers).status_code == 303
    data.update(body="Posted without it.", submission_id=uuid.uuid4().hex)
    del data["federate"]
    assert client.post("/discussion/post/", data, **headers).status_code == 303
    assert [p["object"]["content"] for p in sent("Create")] == ["<p>Posted with the box.</p><p>\u2014 Ines</p>"]


@pytest.mark.parametrize("where", ["this process", "another process"])
def test_the_box_follows_a_change_of_the_settings_on_the_next_request(setup, federation, client, where):
    """The setting is kept per process under the content version: a page asks no query for it,
    and a change saved anywhere shows on the next request."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from speakout.federation.models import FederationSettings
    from speakout.pagecache import versions

    report, thread = setup
    client.force_login(make_user("ines"))
    label = "Also post this reply to the Fediverse"

    def shown() -> bool:
        return label in client.get(report.url).content.decode()

    def change(**fields) -> None:
        if where == "this process":
            for name, value in fields.items():
                setattr(federation, name, value)
            federation.save()
        else:  # what another process's save leaves for this one: the row and the version it bumped
            FederationSettings.objects.filter(pk=federation.pk).update(**fields)
            versions.bump_now("content")

    assert shown()
    with CaptureQueriesContext(connection) as queries:
        assert shown()
    table = FederationSettings._meta.db_table
    assert not [query for query in queries if table in query["sql"]], "the settings read again"
    change(federate_member_replies=False)
    assert not shown()
    change(federate_member_replies=True)
    assert shown()
    change(enabled=False)
    assert not shown()


@pytest.mark.parametrize("how", ["anonymise", "forget", "forget and delete"])
def test_a_member_who_drops_their_name_or_replies_takes_the_note_off_the_fediverse(setup, how):
    from speakout.privacy import services as privacy

    report, thread = setup
    member = make_user("ines")
    reply = post(thread, Author(user=member), "Signed with my name.")
    assert [p["type"] for p in sent()] == ["Create"]
    owner = privacy.Owner.for_user(member)
    if how == "anonymise":
        assert privacy.anonymise(owner, reply)
    else:
        privacy.forget(owner, delete_replies=how == "forget and delete")
    # The Note carried the name in its byline: Delete (not Update, which servers keep as history).
    assert [p["type"] for p in sent()] == ["Create", "Delete"]
    assert sent("Delete")[0]["object"]["id"] == replies_out.note_id(reply)


def test_hiding_the_replies_in_the_report_s_settings_sends_delete_and_showing_them_create(setup):
    report, thread = setup
    reply = post(thread, Author(user=make_user("ines")), "Under a report.")
    report.replies = Thread.Status.HIDDEN
    report.save_revision().publish()
    assert Thread.objects.get(pk=thread.pk).status == Thread.Status.HIDDEN
    assert [d["object"]["id"] for d in sent("Delete")] == [replies_out.note_id(reply)]
    report.replies = Thread.Status.OPEN
    report.save_revision().publish()
    assert sent("Create")[-1]["object"]["id"] == replies_out.note_id(reply)


def test_a_deleted_account_s_notes_leave_the_fediverse_even_where_a_reply_is_kept_as_evidence(setup):
    from speakout.privacy import services as privacy
    from speakout.safety.evidence import hold_reply

    report, thread = setup
    member = make_user("ines")
    kept = post(thread, Author(user=member), "Kept as evidence.")
    moderator = get_user_model().objects.create_user("moderator", is_staff=True, is_superuser=True)
    hold_reply(kept, actor=moderator, reason="evidence")  # out of sight here: Delete there
    assert len(sent("Delete")) == 1
    privacy.delete_account(member, delete_replies=False)
    assert Reply.objects.filter(pk=kept.pk).exists()  # the hold wins here
    assert [d["object"]["id"] for d in sent("Delete")] == [replies_out.note_id(kept)]  # once


def test_a_reply_in_a_translation_s_thread_answers_the_original_s_article(setup, site_builder):
    # Followers only ever received the original's Article (the translation is a language of
    # it), so a Note answering the translation's address would answer something they never saw.
    report, _thread = setup
    site_builder.translate(site_builder.home, "fr", title="Collectif")
    site_builder.translate(site_builder.index, "fr", title="Rapports")
    french = site_builder.translate(report, "fr", title="Rivières", standfirst="Sec.")
    french_thread = Thread.objects.get(key=french.thread_key)
    assert french_thread.key != report.thread_key
    Delivery.objects.all().delete()
    post(french_thread, Author(user=make_user("ines")), "Merci.")
    (create,) = sent("Create")
    original = PublishedArticle.objects.get(page_id=report.pk)
    assert original.announced and not PublishedArticle.objects.get(page_id=french.pk).announced
    assert create["object"]["inReplyTo"] == original.object_id


@pytest.fixture
def publishing_last():
    """The publishing app's page receivers run after the federation's: what the federation
    tells the Fediverse must not depend on the order the apps' receivers were connected in."""
    from wagtail.signals import page_published, page_unpublished

    from speakout.publishing import discussion as publishing

    saved = {signal: list(signal.receivers) for signal in (page_published, page_unpublished)}
    for signal in saved:
        signal.disconnect(publishing._page_changed)
        signal.connect(publishing._page_changed)
    yield
    for signal, receivers in saved.items():
        signal.receivers = receivers
        signal.sender_receivers_cache.clear()


def test_hiding_the_replies_does_not_depend_on_the_order_of_the_apps_receivers(setup, publishing_last):
    test_hiding_the_replies_in_the_report_s_settings_sends_delete_and_showing_them_create(setup)
