"""A server is its registrable domain (eTLD+1, from the Public Suffix List): a server with
wildcard DNS (a.evil.example, b.evil.example, …) gets one reply allowance, one domain ban and one
"Block domain…" for all its names, not a fresh one per name; two sites under a public suffix
(alice.github.io, bob.github.io) stay apart; an IP-literal host is itself."""

from __future__ import annotations

import json
import uuid

import pytest
from django.test import Client

from speakout.discussion.models import BannedClient, Reply
from speakout.federation.inbox import actor_hashes
from speakout.federation.models import ActivityLog, FederationSettings, PublishedArticle, RemoteActor

from .helpers import BASE_URL, RemoteKey

pytestmark = pytest.mark.django_db
AS = "https://www.w3.org/ns/activitystreams"
ACTOR = f"{BASE_URL}/federation/actor"


def create(account: RemoteKey, report, text: str) -> dict:
    note_id = f"{account.url}/notes/{uuid.uuid4().hex}"
    audience = {"to": AS + "#Public", "cc": account.url + "/followers"}
    return {"@context": AS, "id": note_id + "#create", "type": "Create", "actor": account.url, **audience,
            "object": {"id": note_id, "type": "Note", "attributedTo": account.url, **audience,
                       "inReplyTo": PublishedArticle.objects.get(page_id=report.pk).object_id,
                       "content": f"<p>{text}</p>"}}  # fmt: skip


@pytest.fixture
def report(federation, site_builder, rules, settings):
    settings.SPEAKOUT_DISCUSSION_SECONDS_BETWEEN_REPLIES = 0
    return site_builder.report("Rivers")


@pytest.mark.parametrize(
    ("url", "domain"),
    [
        ("https://a.evil.example/users/x", "evil.example"),
        ("https://A.b.Evil.Example./users/x", "evil.example"),
        ("https://evil.example/users/x", "evil.example"),
        ("https://mastodon.social/users/x", "mastodon.social"),
        ("https://social.example.co.uk/u/x", "example.co.uk"),
        ("https://alice.github.io/actor", "alice.github.io"),  # a public suffix in the list's private part
        ("https://github.io/actor", "github.io"),  # a public suffix itself: nothing shorter to key on
        ("https://192.0.2.1/users/x", "192.0.2.1"),
        ("https://192.0.2.1:8443/users/x", "192.0.2.1"),
        ("https://[2001:db8::1]/users/x", "2001:db8::1"),
        ("https://r\u00e9mote.example/users/x", "xn--rmote-bsa.example"),
        ("https://[nonsense/users/x", ""),
    ],
)
def test_the_registrable_domain_of_an_address(url, domain):
    from speakout.federation.urls_helpers import registrable_domain

    assert registrable_domain(url) == domain


def test_every_name_of_a_wildcard_server_shares_one_reply_allowance(federation, client, report, settings):
    settings.SPEAKOUT_FEDERATION_REPLIES_PER_DOMAIN_PER_HOUR = 2
    accounts = [RemoteKey(f"https://{name}.evil.example/users/x") for name in ("a", "b", "c", "d")]
    answers = [account.post(client, create(account, report, f"From {account.url}")) for account in accounts]
    assert [answer.status_code for answer in answers] == [202, 202, 429, 429]
    assert Reply.objects.count() == 2


def test_sites_under_a_public_suffix_keep_their_own_allowance(federation, client, report, settings):
    """alice.github.io and bob.github.io are two people's sites: one using up its allowance
    takes nothing from the other."""
    settings.SPEAKOUT_FEDERATION_REPLIES_PER_DOMAIN_PER_HOUR = 1
    alice = RemoteKey("https://alice.github.io/users/alice")
    bob = RemoteKey("https://bob.github.io/users/bob")
    assert alice.post(client, create(alice, report, "One")).status_code == 202
    other = RemoteKey("https://alice.github.io/users/other")
    assert other.post(client, create(other, report, "Two")).status_code == 429
    assert bob.post(client, create(bob, report, "Three")).status_code == 202


@pytest.fixture
def client():
    return Client()


def test_a_domain_ban_covers_every_name_of_the_domain_and_no_other_site(federation, client, report):
    first = RemoteKey("https://a.evil.example/users/x")
    BannedClient.objects.create(client_hash=actor_hashes(first.actor)[1], reason="a hostile server")
    other_name = RemoteKey("https://b.evil.example/users/y")
    assert other_name.post(client, create(other_name, report, "From b")).status_code == 202
    assert Reply.objects.get(body="From b").status == Reply.Status.SPAM

    alice = RemoteKey("https://alice.github.io/users/alice")
    BannedClient.objects.create(client_hash=actor_hashes(alice.actor)[1], reason="alice's site")
    bob = RemoteKey("https://bob.github.io/users/bob")
    assert bob.post(client, create(bob, report, "From bob")).status_code == 202
    assert Reply.objects.get(body="From bob").status == Reply.Status.APPROVED


def test_an_ip_literal_host_is_its_own_domain(federation, client, report, settings):
    """Read as names, all three would be the "domain" 2.1."""
    settings.SPEAKOUT_FEDERATION_REPLIES_PER_DOMAIN_PER_HOUR = 1
    accounts = [RemoteKey(f"https://{host}/users/x") for host in ("192.0.2.1", "198.51.2.1", "203.0.2.1")]
    RemoteActor.objects.update(profile_url="")  # no website: the guard reads an address's digits as a phone number
    for account in accounts:
        assert account.post(client, create(account, report, "Hello")).status_code == 202
    assert len({actor_hashes(account.actor)[1] for account in accounts}) == 3


def test_block_domain_from_the_queue_blocks_the_registrable_domain(federation, report, admin, django_user_model):
    """The moderator's "Block domain…" beside a reply from a.evil.example blocks evil.example,
    so b.evil.example is refused too; beside one from alice.github.io it blocks that site only."""
    from speakout.discussion.models import DiscussionSettings
    from speakout.federation.moderation import row_links

    DiscussionSettings.objects.filter(pk=1).update(hold_first_reply=True)
    first = RemoteKey("https://a.evil.example/users/x")
    assert first.post(Client(), create(first, report, "Waiting")).status_code == 202
    waiting = Reply.objects.get(body="Waiting")
    superuser = django_user_model.objects.get(username="admin")
    links = row_links([waiting], superuser)
    assert "domain=evil.example" in links[waiting.pk][0].url
    second = RemoteKey("https://b.evil.example/users/y")
    assert second.post(Client(), create(second, report, "Also waiting")).status_code == 202
    confirm = admin.get("/admin/federation/block-domain/", {"domain": "evil.example"}).content.decode()
    assert "evil.example" in confirm
    answer = admin.post("/admin/federation/block-domain/", {"domain": "evil.example", "trash_waiting": "yes"})
    assert answer.status_code == 302
    assert FederationSettings.load().domain_list() == ["evil.example"]
    # What waited from every name of the domain is trashed; every name is refused from now on.
    assert set(Reply.objects.values_list("status", flat=True)) == {Reply.Status.TRASH}
    third = RemoteKey("https://x.evil.example/users/z")
    assert third.post(Client(), create(third, report, "Later")).status_code == 403

    alice = RemoteKey("https://alice.github.io/users/alice")
    assert alice.post(Client(), create(alice, report, "Alice waits")).status_code == 202
    alice_reply = Reply.objects.get(body="Alice waits")
    assert "domain=alice.github.io" in row_links([alice_reply], superuser)[alice_reply.pk][0].url


def test_refusals_from_every_name_of_a_domain_share_one_log_allowance(federation, settings):
    """Refused requests claiming a new name of one domain, each from another address, are one
    sender for the log's cap."""
    settings.SPEAKOUT_FEDERATION_REFUSED_LOGGED_PER_HOST_PER_HOUR = 3
    client = Client()
    for n in range(10):
        body = json.dumps({"type": "Follow", "actor": f"https://h{n}.evil.example/users/x", "object": ACTOR})
        answer = client.post(
            "/federation/inbox", body, content_type="application/activity+json", REMOTE_ADDR=f"203.0.113.{n + 1}"
        )
        assert answer.status_code == 401
    rows = list(ActivityLog.objects.filter(kind=ActivityLog.Kind.INBOX).order_by("pk"))
    assert len(rows) == 4
    assert "7 more refused" in rows[-1].detail


def test_invented_key_ids_on_every_name_of_a_domain_share_one_allowance(federation, client, monkeypatch, settings):
    from speakout.federation import remote

    settings.SPEAKOUT_FEDERATION_KEY_FETCHES_PER_HOST_PER_HOUR = 3
    fetched: list[str] = []

    def fetch_document(url: str) -> dict:
        fetched.append(url)
        raise remote.RemoteError("not found")

    monkeypatch.setattr(remote, "fetch_document", fetch_document)
    account = RemoteKey("https://evil.example/users/x")
    for n in range(12):
        account.key_id = f"https://k{n}.evil.example/keys/{n}#main-key"
        follow = {"@context": AS, "id": f"{account.url}#follow-{n}", "type": "Follow", "actor": account.url,
                  "object": ACTOR}  # fmt: skip
        assert account.post(client, follow).status_code == 401
    assert len(fetched) == 3
