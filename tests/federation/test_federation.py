"""The federation without a peer: discovery, the site actor, the Article and its negotiation,
signatures (verified from a key kept as if fetched), following, replies through the front door,
remote edits and deletions, and hostile input. tests/federation/fedify/ does it against Fedify."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from email.utils import formatdate

import pytest
from django.test import Client
from django.utils import timezone

from speakout.discussion.models import BannedClient, Commenter, DiscussionSettings, Reply, Thread
from speakout.federation import delivery, documents, jobs, jsonld
from speakout.federation.inbox import actor_hashes
from speakout.federation.models import (
    ActivityLog,
    Delivery,
    FederatedReply,
    Follower,
    NoteTombstone,
    PublishedArticle,
    RemoteActor,
)
from speakout.safety.evidence import hold_reply
from speakout.safety.models import PendingBan

from .helpers import BASE_URL, REMOTE, RemoteKey

pytestmark = pytest.mark.django_db
AS = "https://www.w3.org/ns/activitystreams"
ACTOR = f"{BASE_URL}/federation/actor"


@pytest.fixture
def client():
    return Client()


def test_webfinger_and_nodeinfo_name_the_site_actor(federation, client):
    answer = client.get("/.well-known/webfinger", {"resource": "acct:reports@testserver"})
    assert answer.status_code == 200 and answer["Content-Type"].startswith("application/jrd+json")
    links = answer.json()["links"]
    assert {"rel": "self", "type": "application/activity+json", "href": ACTOR} in links
    assert client.get("/.well-known/webfinger", {"resource": "acct:someone@testserver"}).status_code == 404
    href = client.get("/.well-known/nodeinfo").json()["links"][0]["href"]
    info = client.get(href.replace(BASE_URL, "")).json()
    assert info["version"] == "2.1" and info["protocols"] == ["activitypub"]


def test_nothing_is_served_while_federation_is_off(federation, client, site_builder):
    report = site_builder.report("Quiet")
    federation.enabled = False
    federation.save()
    page = client.get(report.url).content.decode()
    assert "Follow us from Mastodon" not in page and "application/activity+json" not in page
    assert client.get("/federation/actor").status_code == 404
    assert client.get("/.well-known/webfinger", {"resource": "acct:reports@testserver"}).status_code == 404


def test_the_actor_is_an_organisation_with_a_kept_key_and_the_settings_fields(federation, client, site_builder):
    federation.summary = "We report."
    federation.approve_followers = True
    federation.also_known_as = "https://old.example/users/reports"
    federation.save()
    document = client.get("/federation/actor", HTTP_ACCEPT="application/activity+json").json()
    assert document["type"] == "Organization" and document["id"] == ACTOR
    assert document["preferredUsername"] == "reports" and document["name"] == "Test Collective"
    assert document["summary"] == "We report." and document["manuallyApprovesFollowers"] is True
    assert document["alsoKnownAs"] == ["https://old.example/users/reports"]
    pem = document["publicKey"]["publicKeyPem"]
    assert "PRIVATE" not in json.dumps(document) and pem.startswith("-----BEGIN PUBLIC KEY-----")
    # The same key on the next request: generated once, kept server-side.
    assert client.get("/federation/actor").json()["publicKey"]["publicKeyPem"] == pem
    assert documents.handle() == "@reports@testserver"


def test_a_report_answers_activity_json_with_its_article_and_the_cache_keeps_html_apart(
    federation, client, site_builder
):
    report = site_builder.report("Water", standfirst="Wells run dry.")
    path = report.url
    html = client.get(path)
    assert html.status_code == 200 and "Accept" in html["Vary"]
    assert f'<link rel="alternate" type="application/activity+json" href="{BASE_URL}{path}"' in html.content.decode()
    assert client.get(path).status_code == 200  # now from the page cache
    for accept in ("application/activity+json", f'application/ld+json; profile="{AS}"'):
        answer = client.get(path, HTTP_ACCEPT=accept)
        assert answer["Content-Type"] == "application/activity+json" and "Accept" in answer["Vary"]
        article = answer.json()
        assert article["type"] == "Article" and article["id"] == f"{BASE_URL}{path}"
        assert article["name"] == "Water" and article["summary"] == "Wells run dry."
        assert "Body of Water." in article["content"] and article["attributedTo"] == ACTOR
    assert client.get(path).content == html.content  # the HTML is still the HTML
    assert "Follow us from Mastodon: @reports@testserver" in html.content.decode()


def test_the_page_cache_front_never_answers_an_activity_request_with_html(federation, site_builder):
    import io

    from django.core.handlers.wsgi import WSGIHandler

    from speakout.pagecache.front import PageCacheFront

    report = site_builder.report("Front")
    front = PageCacheFront(WSGIHandler())

    def call(accept: str = "text/html") -> tuple[str, bytes]:
        seen = {}

        def start(status, headers, exc_info=None):
            seen["headers"] = dict(headers)

        environ = {
            "REQUEST_METHOD": "GET", "PATH_INFO": report.url, "QUERY_STRING": "", "HTTP_HOST": "testserver",
            "SERVER_NAME": "testserver", "SERVER_PORT": "80", "wsgi.url_scheme": "http", "HTTP_ACCEPT": accept,
            "wsgi.input": io.BytesIO(b""), "wsgi.errors": io.StringIO(),
        }  # fmt: skip
        # As Django's test client does: the request must not close the test's connection.
        from django.core.signals import request_finished, request_started
        from django.db import close_old_connections

        for signal in (request_started, request_finished):
            signal.disconnect(close_old_connections)
        try:
            chunks = front(environ, start)
            body = b"".join(chunks)
            if hasattr(chunks, "close"):
                chunks.close()
        finally:
            for signal in (request_started, request_finished):
                signal.connect(close_old_connections)
        return seen["headers"]["Content-Type"], body

    for _ in range(3):  # the front learns the HTML shape, then answers it itself
        assert call()[0].startswith("text/html")
    kind, body = call("application/activity+json")
    assert kind == "application/activity+json" and json.loads(body)["type"] == "Article"


def test_publishing_sends_create_then_update_then_delete_to_each_shared_inbox_once(federation, site_builder, bob):
    carol = RemoteKey(f"{REMOTE}/users/carol")  # same server: one shared inbox
    for remote in (bob, carol):
        Follower.objects.create(actor=remote.actor, state=Follower.State.ACCEPTED, follow_id=remote.url + "#f")
    queued: list[dict] = []
    original = delivery.queue

    def spy(activity, inboxes):
        inboxes = list(inboxes)
        queued.append({"type": activity["type"], "inboxes": inboxes, "object": activity["object"]})
        return 0  # sent nowhere: no server at remote.example

    delivery.queue = spy
    try:
        report = site_builder.report("Floods")
        report.title = "Floods, updated"
        report.save_revision().publish()
        report.unpublish()
    finally:
        delivery.queue = original
    assert [item["type"] for item in queued] == ["Create", "Update", "Delete"]
    assert all(item["inboxes"] == [f"{REMOTE}/inbox"] for item in queued)
    assert queued[1]["object"]["name"] == "Floods, updated"
    assert queued[2]["object"] == {"id": queued[0]["object"]["id"], "type": "Tombstone"}


def test_the_editor_s_content_warning_marks_the_article_sensitive(federation, site_builder, bob, monkeypatch):
    Follower.objects.create(actor=bob.actor, state=Follower.State.ACCEPTED, follow_id=bob.url + "#f")
    queued: list[dict] = []
    monkeypatch.setattr(delivery, "queue", lambda activity, inboxes: queued.append(activity["object"]) or 0)
    report = site_builder.report("Raids", standfirst="What the families saw.")
    report.content_warning = "Police violence, <described>"
    report.save_revision().publish()
    created, updated = queued
    assert created["sensitive"] is False and created["summary"] == "What the families saw."
    assert updated["sensitive"] is True and updated["summary"] == "Police violence, &lt;described&gt;"
    assert "What the families saw." in updated["content"]  # the standfirst still opens the text


def test_a_private_report_is_never_published(federation, site_builder):
    site_builder.report("Secret", private=True)
    report = site_builder.report("Draft", live=False)
    assert (
        not PublishedArticle.objects.filter(deleted=False)
        .exclude(page_id=report.pk)
        .exclude(object_id__endswith="/secret/")
        .filter(page_id=report.pk)
    )
    assert Delivery.objects.count() == 0


def test_a_report_moved_under_a_restricted_section_leaves_the_fediverse(
    federation, client, site_builder, bob, monkeypatch
):
    """Moved where only members may read it, a report is withdrawn from followers (Delete), leaves
    the outbox, and takes no reply from the Fediverse, as if the restriction were put on it."""
    from wagtail.models import PageViewRestriction

    from speakout.publishing.models import ReportIndexPage

    monkeypatch.setattr(delivery, "_enqueue", lambda: None)
    Follower.objects.create(actor=bob.actor, state=Follower.State.ACCEPTED, follow_id=bob.url + "#follow")
    report = site_builder.report("Rivers")
    object_id = PublishedArticle.objects.get(page_id=report.pk).object_id
    members = site_builder.home.add_child(instance=ReportIndexPage(title="Members", slug="members"))
    PageViewRestriction.objects.create(page=members, restriction_type=PageViewRestriction.LOGIN)
    report.move(members, pos="last-child")
    assert PublishedArticle.objects.get(page_id=report.pk).deleted
    assert Delivery.objects.filter(payload__type="Delete").exists()
    assert client.get("/federation/outbox", {"page": 1}).json()["orderedItems"] == []
    assert bob.post(client, note(bob, object_id, "<p>Hello</p>")).status_code == 202
    assert not Reply.objects.exists()


# Signatures and following ---------------------------------------------------------------------


def follow(remote: RemoteKey) -> dict:
    return {"@context": AS, "id": f"{remote.url}#follow-{uuid.uuid4().hex}", "type": "Follow",
            "actor": remote.url, "object": ACTOR}  # fmt: skip


def test_a_signed_follow_is_accepted_and_the_accept_is_queued(federation, client, bob, monkeypatch):
    monkeypatch.setattr(delivery, "_enqueue", lambda: None)
    answer = bob.post(client, follow(bob))
    assert answer.status_code == 202
    assert Follower.objects.get(actor=bob.actor).state == Follower.State.ACCEPTED
    sent = Delivery.objects.get()
    assert sent.inbox == bob.actor.inbox and sent.payload["type"] == "Accept"
    assert sent.payload["object"]["actor"] == bob.url
    # Undo(Follow) removes the follower.
    undo = {"@context": AS, "id": bob.url + "#undo", "type": "Undo", "actor": bob.url, "object": follow(bob)}
    assert bob.post(client, undo).status_code == 202
    assert not Follower.objects.exists()


def test_the_followers_collection_counts_followers_and_names_none(federation, client, bob, monkeypatch):
    """Who follows an at-risk group is theirs to tell: the collection gives the number only."""
    monkeypatch.setattr(delivery, "_enqueue", lambda: None)
    assert bob.post(client, follow(bob)).status_code == 202
    collection = client.get("/federation/followers").json()
    assert collection["totalItems"] == 1 and "first" not in collection
    for page in ("1", "2"):
        answer = client.get("/federation/followers", {"page": page})
        assert answer.status_code == 404 and bob.url.encode() not in answer.content


def test_approve_followers_holds_the_follow(federation, client, bob, monkeypatch):
    monkeypatch.setattr(delivery, "_enqueue", lambda: None)
    federation.approve_followers = True
    federation.save()
    assert bob.post(client, follow(bob)).status_code == 202
    assert Follower.objects.get().state == Follower.State.PENDING and not Delivery.objects.exists()


def test_unsigned_wrongly_signed_stale_or_forged_posts_are_refused(federation, client, bob):
    body = json.dumps(follow(bob)).encode()
    unsigned = client.post("/federation/inbox", body, content_type="application/activity+json")
    assert unsigned.status_code == 401
    other_key = RemoteKey(f"{REMOTE}/users/mallory").private
    assert bob.post(client, follow(bob), key=other_key).status_code == 401
    stale = formatdate((datetime.now(UTC) - timedelta(hours=1)).timestamp(), usegmt=True)
    assert bob.post(client, follow(bob), date=stale).status_code == 401
    # The body changed after signing: the digest no longer matches.
    headers = bob.headers("/federation/inbox", body)
    changed = body.replace(b"Follow", b"Block ")
    assert (
        client.post("/federation/inbox", changed, content_type="application/activity+json", **headers).status_code
        == 401
    )
    # Signed by bob, claiming to be carol.
    forged = {**follow(bob), "actor": f"{REMOTE}/users/carol"}
    assert bob.post(client, forged).status_code == 401
    assert not Follower.objects.exists()
    assert ActivityLog.objects.filter(kind="inbox", ok=False).count() >= 5


def test_an_account_cannot_take_a_key_on_another_server(federation, client, monkeypatch):
    """An actor document that lists another server's keyId as its own is kept without it: kept
    with it, it stood first for that key, so the key's real owner was refused (401) at every
    request within the refetch limit after the first."""
    from speakout.federation import remote

    pem = RemoteKey(f"{REMOTE}/users/helper").actor.public_key_pem
    hostile = "https://elsewhere.example/users/mallory"
    taken = {"id": f"{REMOTE}/users/bob#main-key", "owner": hostile, "publicKeyPem": pem}
    stored = remote.store_actor(hostile, {"id": hostile, "type": "Person", "inbox": hostile + "/inbox",
                                          "publicKey": taken})  # fmt: skip
    assert stored.key_id == ""
    bob = RemoteKey(f"{REMOTE}/users/bob")
    key = {"id": bob.key_id, "owner": bob.url, "publicKeyPem": bob.actor.public_key_pem}
    document = {"id": bob.url, "type": "Person", "inbox": bob.url + "/inbox", "publicKey": key}
    monkeypatch.setattr(remote, "fetch_document", lambda url: document)
    monkeypatch.setattr(delivery, "_enqueue", lambda: None)
    assert bob.post(client, follow(bob)).status_code == 202
    assert bob.post(client, follow(bob)).status_code == 202


def test_blocked_domains_and_actors_are_refused(federation, client, bob):
    federation.blocked_domains = "remote.example"
    federation.save()
    assert bob.post(client, follow(bob)).status_code == 403
    federation.blocked_domains = ""
    federation.blocked_actors = bob.url
    federation.save()
    assert bob.post(client, follow(bob)).status_code == 403
    assert not Follower.objects.exists()


@pytest.mark.parametrize(
    ("blocked", "host"),
    [
        ("remote.example", "remote.example."),  # the root's dot
        ("remote.example", "remote\u3002example"),  # an ideographic full stop, read as a dot by IDNA
        ("remote.example", "remote\uff0eexample"),  # a fullwidth one
        ("xn--rmote-bsa.example", "r\u00e9mote.example"),  # an IDN as typed and in its ASCII form
    ],
)
def test_a_blocked_server_is_refused_under_every_spelling_of_its_name(federation, client, blocked, host):
    """Each spelling resolves to the same server, so each is the blocked server."""
    federation.blocked_domains = blocked
    federation.save()
    account = RemoteKey(f"https://{host}/users/bob")
    assert account.post(client, follow(account)).status_code == 403
    assert not Follower.objects.exists()


@pytest.mark.parametrize("address", ["https://[remote/users/bob", "https://remote\uff03example/users/bob"])
def test_an_address_that_is_not_a_url_is_refused_not_a_server_error(federation, client, address):
    """As the activity's actor, as the keyId, as a link in a note, in a fetched actor document."""
    from speakout.federation import remote

    bob = RemoteKey(f"{REMOTE}/users/bob")
    body = json.dumps({**follow(bob), "actor": address}).encode()
    answer = client.post("/federation/inbox", body, content_type="application/activity+json")
    assert answer.status_code == 401
    digest = "SHA-256=" + base64.b64encode(__import__("hashlib").sha256(body).digest()).decode()
    signature = (
        f'keyId="{address}#k",algorithm="rsa-sha256",headers="(request-target) host date digest",signature="AA=="'
    )
    answer = client.post(
        "/federation/inbox", body, content_type="application/activity+json",
        HTTP_SIGNATURE=signature, HTTP_DATE=formatdate(usegmt=True), HTTP_DIGEST=digest,
    )  # fmt: skip
    assert answer.status_code == 401
    assert bob.post(client, {**follow(bob), "id": address + "#follow"}).status_code == 400
    key = {"id": bob.key_id, "owner": bob.url, "publicKeyPem": bob.actor.public_key_pem}
    document = {"id": bob.url, "type": "Person", "inbox": address, "url": address, "publicKey": key}
    assert remote.store_actor(bob.url, document).inbox == ""


# Replies ----------------------------------------------------------------------------------------


def note(remote: RemoteKey, in_reply_to: str, content: str, *, public: bool = True, note_id: str = "") -> dict:
    note_id = note_id or f"{remote.url}/notes/{uuid.uuid4().hex}"
    audience = {"to": AS + "#Public", "cc": remote.url + "/followers"} if public else {"to": ACTOR}
    return {
        "@context": AS,
        "id": note_id + "#create",
        "type": "Create",
        "actor": remote.url,
        **audience,
        "object": {"id": note_id, "type": "Note", "attributedTo": remote.url, "inReplyTo": in_reply_to,
                   "content": content, **audience},
    }  # fmt: skip


@pytest.fixture
def report(federation, site_builder):
    return site_builder.report("Rivers")


@pytest.fixture
def no_pause(settings):
    settings.SPEAKOUT_DISCUSSION_SECONDS_BETWEEN_REPLIES = 0


def article_id(report) -> str:
    return PublishedArticle.objects.get(page_id=report.pk).object_id


def test_a_reply_goes_through_the_pipeline_held_first_then_trusted(federation, client, bob, report, no_pause):
    DiscussionSettings.objects.update_or_create(pk=1, defaults={"hold_first_reply": True})
    first = note(bob, article_id(report), '<p>Thanks <a href="https://remote.example/tags/rivers">#rivers</a></p>')
    assert bob.post(client, first).status_code == 202
    reply = Reply.objects.get()
    assert reply.status == Reply.Status.PENDING and reply.thread.key == report.thread_key
    assert reply.author_name == "Bob Remote"
    assert reply.author_website == bob.url
    assert 'href="https://remote.example/tags/rivers"' in reply.body_html and "#rivers" in reply.body_html
    # Sent again (a retry): nothing new.
    assert bob.post(client, first).status_code == 202 and Reply.objects.count() == 1
    from speakout.discussion.services import set_status

    set_status(reply, Reply.Status.APPROVED)
    second = note(bob, first["object"]["id"], "<p>And a second thought.</p>")
    assert bob.post(client, second).status_code == 202
    answer = Reply.objects.latest("pk")
    assert answer.status == Reply.Status.APPROVED and answer.parent_id == reply.pk
    assert answer.commenter_id == reply.commenter_id
    assert "And a second thought." in client.get(report.url).content.decode()


def test_a_reply_shows_the_proven_handle_and_the_avatar_kept_here_and_nothing_from_elsewhere(
    federation, client, bob, report, no_pause
):
    import re

    DiscussionSettings.objects.update_or_create(pk=1, defaults={"hold_first_reply": False})
    RemoteActor.objects.filter(pk=bob.actor.pk).update(
        icon_url="https://remote.example/media/bob.png", avatar=b"\x89PNG\r\n\x1a\nkept", avatar_type="image/png"
    )
    assert bob.post(client, note(bob, article_id(report), "<p>Hello from afar</p>")).status_code == 202
    reply = Reply.objects.get()
    # The handle is no typed text: the name passed the personal-data guard as it is.
    assert reply.status == Reply.Status.APPROVED and reply.author_name == "Bob Remote"
    html = client.get(report.url).content.decode()
    handle = f"@{bob.actor.username}@{bob.actor.domain}"
    assert f'<span class="reply__handle" dir="ltr"><a href="{bob.url}" rel="nofollow ugc noopener">{handle}</a>' in html
    avatar = f"/federation/avatars/{bob.actor.pk}"
    assert f'<img class="reply__avatar" src="{avatar}"' in html
    assert client.get(avatar).content == b"\x89PNG\r\n\x1a\nkept"
    # Nothing on the page loads from another origin: every src, srcset, link and action is ours.
    loaded = re.findall(r'(?:src|srcset|action)="([^"]*)"|<link [^>]*href="([^"]*)"', html)
    for url in (part for pair in loaded for part in pair if part):
        assert url.startswith(("/", "#", "data:", BASE_URL, "http://testserver")), url
    assert "remote.example/media" not in html


def test_a_reply_from_an_actor_without_a_kept_avatar_keeps_the_drawn_one(federation, client, bob, report, no_pause):
    DiscussionSettings.objects.update_or_create(pk=1, defaults={"hold_first_reply": False})
    assert bob.post(client, note(bob, article_id(report), "<p>No picture</p>")).status_code == 202
    html = client.get(report.url).content.decode()
    assert "/federation/avatars/" not in html and f"@{bob.actor.username}@{bob.actor.domain}" in html
    assert '<img class="reply__avatar" src="/discussion/avatar/' in html


def test_direct_notes_and_replies_to_private_or_unknown_reports_are_not_taken(federation, client, bob, site_builder):
    public = site_builder.report("Open")
    assert bob.post(client, note(bob, article_id(public), "<p>Just for you</p>", public=False)).status_code == 403
    secret = site_builder.report("Closed")
    secret_id = article_id(secret)
    secret.unpublish()
    unknown = bob.post(client, note(bob, f"{BASE_URL}/reports/nothing/", "<p>Hello</p>"))
    private = bob.post(client, note(bob, secret_id, "<p>Hello</p>"))
    assert unknown.status_code == private.status_code == 202
    assert unknown.content == private.content
    assert not Reply.objects.exists()


def test_bans_by_actor_and_by_domain_hold_the_reply_as_spam(federation, client, bob, report, rules):
    actor_hash, domain_hash = actor_hashes(bob.actor)
    BannedClient.objects.create(client_hash=domain_hash, reason="a hostile server")
    assert bob.post(client, note(bob, article_id(report), "<p>Hi</p>")).status_code == 202
    assert Reply.objects.get().status == Reply.Status.SPAM


def test_remote_update_and_delete_and_the_evidence_hold_wins(
    federation, client, bob, report, rules, django_user_model, no_pause
):
    created = note(bob, article_id(report), "<p>First words</p>")
    bob.post(client, created)
    reply = Reply.objects.get()
    update = {**created, "id": created["id"] + "-u", "type": "Update",
              "object": {**created["object"], "content": "<p>Better words</p>"}}  # fmt: skip
    assert bob.post(client, update).status_code == 202
    reply.refresh_from_db()
    assert reply.body == "Better words" and reply.edited_at is not None
    moderator = django_user_model.objects.create_user("mod", is_staff=True, is_superuser=True)
    hold_reply(reply, actor=moderator, reason="threats")
    delete = {"@context": AS, "id": created["id"] + "-d", "type": "Delete", "actor": bob.url,
              "object": {"id": created["object"]["id"], "type": "Tombstone"}}  # fmt: skip
    assert bob.post(client, delete).status_code == 202
    assert Reply.objects.filter(pk=reply.pk).exists()  # evidence wins
    # Another reply, not held: a Delete removes it.
    other = note(bob, article_id(report), "<p>Other</p>")
    bob.post(client, other)
    gone = FederatedReply.objects.get(object_id=other["object"]["id"]).reply_id
    bob.post(client, {**delete, "id": other["id"] + "-d", "object": other["object"]["id"]})
    assert not Reply.objects.filter(pk=gone).exists()


def edit(created: dict, content: str, updated: str | None, suffix: str) -> dict:
    """An Update of the Note in ``created``: its new text and, unless None, its ``updated`` time."""
    obj = {**created["object"], "content": content, "published": "2026-01-01T10:00:00Z"}
    if updated is not None:
        obj["updated"] = updated
    return {**created, "id": created["id"] + suffix, "type": "Update", "object": obj}


def test_an_older_or_repeated_remote_edit_never_overwrites_a_newer_one(federation, client, bob, report, no_pause):
    created = note(bob, article_id(report), "<p>First words</p>")
    created["object"]["published"] = "2026-01-01T10:00:00Z"
    bob.post(client, created)
    reply = Reply.objects.get()
    newer = edit(created, "<p>newer</p>", "2026-01-01T12:00:00Z", "#u2")
    older = edit(created, "<p>older</p>", "2026-01-01T11:00:00+00:00", "#u1")
    assert bob.post(client, newer).status_code == 202
    assert bob.post(client, older).status_code == 202  # a late delivery or a retry
    reply.refresh_from_db()
    assert reply.body == "newer" and "<p>newer</p>" in reply.body_html
    # The same version again changes nothing, not even the time of the edit.
    edited_at = reply.edited_at
    assert bob.post(client, {**newer, "id": newer["id"] + "-again"}).status_code == 202
    reply.refresh_from_db()
    assert reply.body == "newer" and reply.edited_at == edited_at
    # One without a time (or with one that is not a time with its zone) is not known to be newer.
    for when in (None, "yesterday", "2026-01-01T13:00:00"):
        assert bob.post(client, edit(created, "<p>undated</p>", when, f"#u-{when}")).status_code == 202
        reply.refresh_from_db()
        assert reply.body == "newer"
    # A later one is taken, and is the one to beat from then on.
    assert bob.post(client, edit(created, "<p>latest</p>", "2026-01-01T16:00:00+02:00", "#u3")).status_code == 202
    reply.refresh_from_db()
    assert reply.body == "latest"
    # Times are compared as instants: 17:00 at +05:00 is 12:00 UTC, before the 14:00 UTC kept.
    assert bob.post(client, edit(created, "<p>late</p>", "2026-01-01T17:00:00+05:00", "#u4")).status_code == 202
    reply.refresh_from_db()
    assert reply.body == "latest"
    assert FederatedReply.objects.get().remote_updated_at == datetime(2026, 1, 1, 14, tzinfo=UTC)


def test_a_remote_edit_is_compared_with_the_note_s_own_time(federation, client, bob, report, no_pause):
    created = note(bob, article_id(report), "<p>First words</p>")
    created["object"]["published"] = "2026-01-01T10:00:00Z"
    bob.post(client, created)
    assert FederatedReply.objects.get().remote_updated_at == datetime(2026, 1, 1, 10, tzinfo=UTC)
    # Dated before the note itself: older than what is kept.
    assert bob.post(client, edit(created, "<p>before</p>", "2026-01-01T09:00:00Z", "#u0")).status_code == 202
    assert Reply.objects.get().body == "First words"
    # A server that never dates its edits: an edit of the original is still an edit.
    assert bob.post(client, edit(created, "<p>undated</p>", None, "#u1")).status_code == 202
    assert Reply.objects.get().body == "undated"


def test_an_older_edit_does_not_make_a_reply_private(federation, client, bob, report, no_pause):
    created = note(bob, article_id(report), "<p>First words</p>")
    bob.post(client, created)
    assert bob.post(client, edit(created, "<p>newer</p>", "2026-01-01T12:00:00Z", "#u2")).status_code == 202
    private = edit(created, "<p>older</p>", "2026-01-01T11:00:00Z", "#u1")
    private["object"] = {**private["object"], "to": ACTOR, "cc": []}
    assert bob.post(client, private).status_code == 202
    assert Reply.objects.get().body == "newer"


def test_a_create_retried_after_its_delete_does_not_bring_the_reply_back(federation, client, bob, report, no_pause):
    created = note(bob, article_id(report), "<p>First words</p>")
    bob.post(client, created)
    delete = {"@context": AS, "id": created["id"] + "-d", "type": "Delete", "actor": bob.url,
              "object": {"id": created["object"]["id"], "type": "Tombstone"}}  # fmt: skip
    assert bob.post(client, delete).status_code == 202
    assert not Reply.objects.exists()
    assert bob.post(client, created).status_code == 202  # the Create, retried
    assert not Reply.objects.exists()


def test_a_delete_that_overtakes_its_create_keeps_the_note_out(federation, client, bob, report, no_pause):
    created = note(bob, article_id(report), "<p>First words</p>")
    delete = {"@context": AS, "id": created["id"] + "-d", "type": "Delete", "actor": bob.url,
              "object": created["object"]["id"]}  # fmt: skip
    assert bob.post(client, delete).status_code == 202
    # What is kept is a digest, never the note's or its author's address.
    (tombstone,) = NoteTombstone.objects.values_list("digest", flat=True)
    assert len(tombstone) == 64 and set(tombstone) <= set("0123456789abcdef")
    assert bob.post(client, created).status_code == 202
    assert not Reply.objects.exists() and not FederatedReply.objects.exists()
    answered = ActivityLog.objects.latest("pk")
    assert (answered.ok, answered.detail) == (True, "already deleted")
    # Another account on the same server cannot keep out a note that is not its own.
    carol = RemoteKey(f"{REMOTE}/users/carol")
    theirs = note(bob, article_id(report), "<p>Mine</p>")
    forged = {"@context": AS, "id": f"{carol.url}/d/1", "type": "Delete", "actor": carol.url,
              "object": theirs["object"]["id"]}  # fmt: skip
    assert carol.post(client, forged).status_code == 202
    assert bob.post(client, theirs).status_code == 202
    assert Reply.objects.get().body == "Mine"


def test_a_delete_taken_while_its_create_is_being_taken_wins(federation, client, bob, report, no_pause, monkeypatch):
    from speakout.federation import inbox

    created = note(bob, article_id(report), "<p>First words</p>")
    adapter = inbox.get_adapter()
    real_submit = adapter.submit

    def submit_then_delete(*args, **kwargs):
        result = real_submit(*args, **kwargs)
        NoteTombstone.record(bob.url, created["object"]["id"])  # the Delete, found no reply yet
        return result

    monkeypatch.setattr(adapter, "submit", submit_then_delete)
    monkeypatch.setattr(inbox, "get_adapter", lambda: adapter)
    assert bob.post(client, created).status_code == 202
    assert not Reply.objects.exists() and not FederatedReply.objects.exists()


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def test_an_update_that_overtakes_its_create_is_taken_and_the_late_create_changes_nothing(
    federation, client, bob, report, no_pause
):
    """Servers retry, so an edit can arrive before the Note it edits: it is taken as the Note, with
    its own text and time, through the same checks as a Create; the Create that follows is older."""
    now = timezone.now().replace(microsecond=0)
    created = note(bob, article_id(report), "<p>First words</p>")
    created["object"]["published"] = _iso(now - timedelta(minutes=5))
    update = edit(created, "<p>Better words</p>", _iso(now - timedelta(minutes=1)), "#u1")
    update["object"]["published"] = created["object"]["published"]
    assert bob.post(client, update).status_code == 202
    reply = Reply.objects.get()
    assert reply.body == "Better words" and reply.thread.key == report.thread_key
    assert FederatedReply.objects.get().remote_updated_at == now - timedelta(minutes=1)
    assert bob.post(client, created).status_code == 202  # the Create, late
    reply.refresh_from_db()
    assert reply.body == "Better words" and Reply.objects.count() == 1


def test_an_update_of_an_unknown_note_passes_the_checks_of_a_create(federation, client, bob, report, no_pause):
    """Taken as a Create, an Update must be one that a Create would be: a public reply to one of our
    reports, not deleted, and recent (older than the tombstones, a deleted Note could come back)."""
    now = timezone.now()

    def update(content: str, *, published: datetime | None = now, public: bool = True, to: str = "") -> dict:
        created = note(bob, to or article_id(report), content, public=public)
        changed = edit(created, content, _iso(now), "#u")
        changed["object"].pop("published")
        if published is not None:
            changed["object"]["published"] = _iso(published)
        return changed

    # Deleted by its author before the edit came: the tombstone keeps it out.
    deleted = update("<p>deleted</p>")
    NoteTombstone.record(bob.url, deleted["object"]["id"])
    assert bob.post(client, deleted).status_code == 202
    # Not public, not a reply to a report, published before what tombstones remember, or undated.
    assert bob.post(client, update("<p>private</p>", public=False)).status_code == 403
    assert bob.post(client, update("<p>elsewhere</p>", to=f"{REMOTE}/notes/1")).status_code == 202
    old = now - timedelta(days=31)
    assert bob.post(client, update("<p>old</p>", published=old)).status_code == 202
    assert bob.post(client, update("<p>undated</p>", published=None)).status_code == 202
    # Another account's note, or a note on another host, is never taken.
    carol = RemoteKey(f"{REMOTE}/users/carol")
    theirs = update("<p>theirs</p>")
    assert carol.post(client, {**theirs, "actor": carol.url}).status_code == 400
    assert not Reply.objects.exists()


def test_a_reply_deleted_here_is_not_brought_back_by_its_author_s_edit(
    federation, client, bob, report, no_pause, django_user_model
):
    """A moderator's deletion, or the author making the Note private, keeps a tombstone too: a
    later edit (or an older one, late) is not a new Note."""
    from speakout.discussion.services import delete_permanently

    now = timezone.now()
    created = note(bob, article_id(report), "<p>Rude words</p>")
    created["object"]["published"] = _iso(now - timedelta(minutes=5))
    bob.post(client, created)
    moderator = django_user_model.objects.create_user("mod", is_staff=True, is_superuser=True)
    delete_permanently(Reply.objects.get(), actor=moderator, reason="rude")
    later = edit(created, "<p>Still rude</p>", _iso(now), "#u1")
    later["object"]["published"] = created["object"]["published"]
    assert bob.post(client, later).status_code == 202
    assert not Reply.objects.exists()
    # Made private by its author, then an older public edit arrives late.
    second = note(bob, article_id(report), "<p>Second</p>")
    second["object"]["published"] = _iso(now - timedelta(minutes=5))
    bob.post(client, second)
    private = edit(second, "<p>Second</p>", _iso(now), "#u2")
    private["object"] = {**private["object"], "published": second["object"]["published"], "to": ACTOR, "cc": []}
    private.update({"to": ACTOR, "cc": []})
    assert bob.post(client, private).status_code == 202
    assert not Reply.objects.exists()
    late = edit(second, "<p>Second, public</p>", _iso(now - timedelta(minutes=2)), "#u1")
    late["object"]["published"] = second["object"]["published"]
    assert bob.post(client, late).status_code == 202
    assert not Reply.objects.exists()


def test_the_scheduled_prune_drops_old_tombstones_and_keeps_recent_ones(federation, settings):
    settings.SPEAKOUT_FEDERATION_TOMBSTONE_RETENTION_DAYS = 7
    NoteTombstone.record("https://remote.example/users/bob", "https://remote.example/notes/old")
    NoteTombstone.record("https://remote.example/users/bob", "https://remote.example/notes/recent")
    now = timezone.now()
    old = NoteTombstone.digest_of("https://remote.example/users/bob", "https://remote.example/notes/old")
    NoteTombstone.objects.filter(digest=old).update(deleted_at=now - timedelta(days=8))
    NoteTombstone.objects.exclude(digest=old).update(deleted_at=now - timedelta(days=6))
    assert jobs.prune_log() == 1
    assert not NoteTombstone.is_deleted("https://remote.example/users/bob", "https://remote.example/notes/old")
    assert NoteTombstone.is_deleted("https://remote.example/users/bob", "https://remote.example/notes/recent")


def test_the_scheduled_prune_forgets_accounts_nothing_here_refers_to(federation, client, bob, report, settings):
    """A Fediverse account is kept while something here needs it (a follow, a reply, a ban or one
    pending); one that only signed a request, or whose replies are all gone, is deleted once its
    key is stale, with the moderation record made for it alone."""
    settings.SPEAKOUT_FEDERATION_KEY_CACHE_SECONDS = 3600
    assert bob.post(client, note(bob, article_id(report), "<p>Kept</p>")).status_code == 202
    stale = timezone.now() - timedelta(hours=2)

    def actor(name: str, **fields) -> RemoteActor:
        return RemoteActor.objects.create(
            url=f"https://remote.example/users/{name}", domain="remote.example", username=name, name=name.title(),
            avatar=b"picture", **{"fetched_at": stale, **fields},
        )  # fmt: skip

    actor("signer")
    actor("fresh", fetched_at=timezone.now())
    follows = actor("follows")
    Follower.objects.create(actor=follows, follow_id="https://remote.example/follows/1")
    banned = actor("banned", commenter=Commenter.objects.create(display_name="Banned", is_banned=True))
    pending = actor("pending", commenter=Commenter.objects.create(display_name="Pending"))
    PendingBan.objects.create(commenter=pending.commenter, reason="abuse", requested_by=None)
    removed = actor("removed", commenter=Commenter.objects.create(display_name="Removed", website="https://r.example"))
    RemoteActor.objects.filter(url=bob.url).update(fetched_at=stale)

    jobs.prune_log()

    kept = {"bob", "fresh", "follows", "banned", "pending"}
    assert set(RemoteActor.objects.values_list("username", flat=True)) == kept
    assert not Commenter.objects.filter(pk=removed.commenter_id).exists()
    assert Commenter.objects.filter(pk=banned.commenter_id).exists()
    assert Reply.objects.get().federated.actor.url == bob.url
    # Its reply deleted (here or by its server), bob's account goes at the next prune.
    bobs_record = RemoteActor.objects.get(url=bob.url).commenter_id
    assert bobs_record is not None
    Reply.objects.get().delete()
    jobs.prune_log()
    assert not RemoteActor.objects.filter(url=bob.url).exists()
    assert not Commenter.objects.filter(pk=bobs_record).exists()


def test_an_account_fetched_again_while_the_prune_runs_is_kept_with_its_record(federation, monkeypatch, settings):
    """The prune picks the accounts, then deletes them: one that signed a request in between (so
    was fetched again) stays, and so does the moderation record that belongs to it."""
    settings.SPEAKOUT_FEDERATION_KEY_CACHE_SECONDS = 3600
    stale = timezone.now() - timedelta(hours=2)
    record = Commenter.objects.create(display_name="Returning")
    returning = RemoteActor.objects.create(
        url="https://remote.example/users/returning", domain="remote.example", username="returning",
        commenter=record, fetched_at=stale,
    )  # fmt: skip
    RemoteActor.objects.create(url="https://remote.example/users/gone", domain="remote.example", fetched_at=stale)
    picked = jobs._found

    def then_fetched_again(accounts):
        found = picked(accounts)
        RemoteActor.objects.filter(pk=returning.pk).update(fetched_at=timezone.now())
        return found

    monkeypatch.setattr(jobs, "_found", then_fetched_again)
    assert jobs.forget_unneeded_actors(timezone.now()) == 1
    assert list(RemoteActor.objects.values_list("username", flat=True)) == ["returning"]
    assert RemoteActor.objects.get().commenter == record


def test_replies_are_rate_limited_per_actor(federation, client, bob, report, rules):
    assert bob.post(client, note(bob, article_id(report), "<p>One</p>")).status_code == 202
    assert bob.post(client, note(bob, article_id(report), "<p>Two</p>")).status_code == 429
    assert Reply.objects.count() == 1


def test_a_note_claiming_another_host_s_id_is_refused(federation, client, bob, report):
    forged = note(bob, article_id(report), "<p>x</p>", note_id="https://elsewhere.example/notes/1")
    assert bob.post(client, forged).status_code == 400
    assert not Reply.objects.exists()


# Hostile input ----------------------------------------------------------------------------------


def test_oversized_deep_and_mistyped_bodies_are_refused(federation, client, bob, settings):
    settings.SPEAKOUT_FEDERATION_MAX_BODY_BYTES = 2000
    big = {**follow(bob), "padding": "x" * 5000}
    assert bob.post(client, big).status_code == 413
    deep: dict = {}
    for _ in range(100):
        deep = {"a": deep}
    assert bob.post(client, {**follow(bob), "deep": deep}).status_code == 400
    assert client.post("/federation/inbox", "x=1", content_type="application/x-www-form-urlencoded").status_code == 415
    assert bob.post(client, ["not", "an", "object"]).status_code == 400


def test_actor_and_key_urls_on_private_addresses_are_never_fetched(federation, client):
    from speakout.federation import remote

    for url in ("http://127.0.0.1:1/users/x", "http://169.254.169.254/latest", "http://[::1]/a", "file:///etc/passwd"):
        with pytest.raises(remote.RemoteError):
            remote.actor(url)
    # Through the inbox: a keyId on loopback is refused (401), nothing fetched.
    body = json.dumps({"type": "Follow", "actor": "http://127.0.0.1:1/u", "object": ACTOR}).encode()
    signature = (
        'keyId="http://127.0.0.1:1/u#k",algorithm="rsa-sha256",'
        'headers="(request-target) host date digest",signature="AA=="'
    )
    digest = "SHA-256=" + base64.b64encode(__import__("hashlib").sha256(body).digest()).decode()
    answer = client.post(
        "/federation/inbox", body, content_type="application/activity+json",
        HTTP_SIGNATURE=signature, HTTP_DATE=formatdate(usegmt=True), HTTP_DIGEST=digest,
    )  # fmt: skip
    assert answer.status_code == 401
    assert ActivityLog.objects.filter(kind="fetch", ok=False, url__startswith="http://127.0.0.1:1/").exists()


def test_compact_json_ld_shapes_read_the_same():
    assert jsonld.refs("https://a/x") == ["https://a/x"]
    assert jsonld.refs([{"id": "https://a/x"}, "https://a/y"]) == ["https://a/x", "https://a/y"]
    assert jsonld.is_public({"to": "as:Public"}) and jsonld.is_public({"cc": [AS + "#Public"]})
    assert not jsonld.is_public({"to": "https://a/followers"})
    assert jsonld.types({"type": "Note"}) == {"Note"}


def test_thread_key_is_unchanged(report):
    assert Thread.objects.filter(key=report.thread_key).exists()


def test_a_kept_picture_is_served_only_beside_a_reply_anyone_may_read(federation, client, bob, report, no_pause):
    """The pictures' addresses are numbered: serving every kept one would list, to anyone counting
    through them, the accounts whose replies were held, refused or removed. A picture is served
    while its account has a published reply in a public discussion (the moderators see it too)."""
    from django.contrib.auth import get_user_model

    from speakout.discussion.services import set_status

    RemoteActor.objects.filter(pk=bob.actor.pk).update(avatar=b"\x89PNG\r\n\x1a\nkept", avatar_type="image/png")
    assert bob.post(client, note(bob, article_id(report), "<p>Held for now</p>")).status_code == 202
    reply = Reply.objects.get()
    assert reply.status == Reply.Status.PENDING
    avatar = f"/federation/avatars/{bob.actor.pk}"
    assert client.get(avatar).status_code == 404
    moderator = Client()
    moderator.force_login(get_user_model().objects.create_superuser("mod", "mod@example.org", "x" * 20))
    seen = moderator.get(avatar)
    assert seen.status_code == 200 and "private" in seen["Cache-Control"]
    set_status(reply, Reply.Status.APPROVED)
    shown = client.get(avatar)
    assert shown.status_code == 200 and shown.content == b"\x89PNG\r\n\x1a\nkept"
    set_status(reply, Reply.Status.TRASH)
    assert client.get(avatar).status_code == 404
