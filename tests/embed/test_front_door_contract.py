"""The contract of the front door: the same submission gets the same outcome through every front
end (the HTML form, ``/api/``, ``/embed/api/``, ``/isso/`` and, for the cases that apply to a
signed account rather than a typed name and address, the Fediverse inbox).

Each front end speaks its own shape (a redirect or a page, JSON, Isso's JSON and plain text), so
each driver below turns its answer back into one ``Answer``: the outcome, the messages the
writer reads, the "post anyway" warnings offered, and the reply stored. The cases are then run
through all four and must agree.
"""

from __future__ import annotations

import html
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from speakout.discussion.clients import client_hashes_for_ip, new_guest_token
from speakout.discussion.models import BannedClient, Reply, Thread
from speakout.discussion.services import Author, submit_reply
from speakout.safety.models import SafetySettings
from tests.discussion.helpers import form_data, old_form_token
from tests.embed.helpers import SITE
from tests.federation.helpers import REMOTE, RemoteKey

pytestmark = pytest.mark.django_db

PATH = "/posts/contract/"
TEST_CLIENT_IP = "127.0.0.1"  # what Django's test client sends as REMOTE_ADDR
PHONE = "Call me on +44 7700 900123 tonight."


@dataclass
class Answer:
    outcome: str  # published, held or rejected
    text: str = ""  # every message the writer is shown
    confirm: set[str] = field(default_factory=set)  # codes of the "post anyway" boxes offered
    reply_id: int | None = None

    def says(self, words: str) -> bool:
        return words in self.text


def stored_outcome(reply_id: int) -> str:
    return "published" if Reply.objects.get(pk=reply_id).status == Reply.Status.APPROVED else "held"


class FrontEnd:
    """Posts a submission (``body``, ``name``, ``email``, ``parent``, ``submission_id``,
    ``confirm``) the way its own client would, keeping the guest identity it was given."""

    name = ""

    def __init__(self):
        self.client = Client(HTTP_ORIGIN=SITE)
        self.guest_header = ""

    def send(
        self,
        *,
        body: str,
        name="Robin",
        email="robin@example.org",
        parent=None,
        submission_id="",
        confirm=(),
        answers=None,
    ):
        """``answers``: the writer's "email me when someone answers this reply" box, as that
        front end's client sends it (None: the client does not send it)."""
        raise NotImplementedError


class HtmlForm(FrontEnd):
    name = "html"

    def __init__(self):
        super().__init__()
        self.client = Client()  # the site's own page: no Origin to check

    def send(
        self, *, body, name="Robin", email="robin@example.org", parent=None, submission_id="", confirm=(), answers=None
    ):
        data = {
            "thread": PATH,
            "name": name,
            "email": email,
            "body": body,
            "form_token": old_form_token(PATH),
            "submission_id": submission_id or uuid.uuid4().hex,
            "confirm": list(confirm),
        }
        if parent:
            data["parent"] = parent
        if answers is not None:
            data["notify_answers"] = ["0", "1"] if answers else ["0"]  # the hidden "0", then the box
        response = self.client.post("/discussion/post/", data)
        if response.status_code == 303:
            reply_id = int(response["Location"].rsplit("#reply-", 1)[1])
            return Answer(stored_outcome(reply_id), reply_id=reply_id)
        assert response.status_code in (400, 429), response.status_code
        page = response.content.decode()
        errors = re.findall(
            r'class="(?:[^"]*errorlist[^"]*"[^>]*>(.*?)</ul>|field__error"[^>]*>(.*?)</span>)', page, re.S
        )
        errors = [part for pair in errors for part in pair]
        text = html.unescape(re.sub(r"<[^>]+>", " ", " ".join(errors)))
        offered = set(re.findall(r'name="confirm" value="([^"]+)"', page))
        return Answer("rejected", text=" ".join(text.split()), confirm=offered)


class JsonApi(FrontEnd):
    name = "api"
    url = f"/api/threads/{PATH}/replies"

    def payload(self, *, body, name, email, parent, submission_id, confirm, answers) -> dict:
        extra = {} if answers is None else {"notify_answers": answers}
        return {
            **extra,
            "name": name,
            "email": email,
            "body": body,
            "parent": parent,
            "form_token": old_form_token(PATH),
            "submission_id": submission_id or uuid.uuid4().hex,
            "confirm": list(confirm),
        }

    def send(
        self, *, body, name="Robin", email="robin@example.org", parent=None, submission_id="", confirm=(), answers=None
    ):
        payload = self.payload(
            body=body,
            name=name,
            email=email,
            parent=parent,
            submission_id=submission_id,
            confirm=confirm,
            answers=answers,
        )
        headers = {"X-Speakout-Guest": self.guest_header} if self.guest_header else {}
        response = self.client.post(self.url, json.dumps(payload), content_type="application/json", headers=headers)
        answer = response.json()
        if response.status_code in (200, 201):
            self.guest_header = answer.get("guest_token") or self.guest_header
            assert answer["outcome"] == stored_outcome(answer["reply"]["id"])
            return Answer(answer["outcome"], reply_id=answer["reply"]["id"])
        assert response.status_code in (400, 429), response.status_code
        text = " ".join(message for messages in answer["errors"].values() for message in messages)
        return Answer(answer["outcome"], text=text, confirm=set(answer.get("confirm") or {}))


class EmbedApi(JsonApi):
    name = "embed"
    url = f"/embed/api/replies?key={PATH}"

    def payload(self, **fields) -> dict:
        return {**super().payload(**fields), "url": f"{SITE}{PATH}"}


class IssoApi(FrontEnd):
    name = "isso"

    def send(
        self, *, body, name="Robin", email="robin@example.org", parent=None, submission_id="", confirm=(), answers=None
    ):
        payload = {"text": body, "author": name, "email": email, "website": None, "parent": parent}
        if answers is not None:
            payload["notification"] = 1 if answers else 0  # Isso's "replies to my comment" box
        if submission_id:
            payload["submission_id"] = submission_id
        if confirm:
            payload["confirm"] = list(confirm)
        response = self.client.post(f"/isso/new?uri={PATH}", json.dumps(payload), content_type="application/json")
        if response.status_code in (201, 202):
            reply = response.json()
            outcome = "published" if response.status_code == 201 else "held"
            assert outcome == stored_outcome(reply["id"]) and reply["mode"] == (1 if outcome == "published" else 2)
            return Answer(outcome, reply_id=reply["id"])
        assert response.status_code in (400, 403, 429), response.status_code
        offered = {code for code in response.get("X-Speakout-Confirm", "").split(",") if code}
        return Answer("rejected", text=response.content.decode(), confirm=offered)


class FediverseInbox(FrontEnd):
    """A signed ``Create`` of a public ``Note`` answering the report, from one remote account.
    The name and address do not travel: the account is the proof of who writes."""

    name = "fediverse"
    article = f"{SITE}/federation/articles/contract"

    def __init__(self):
        from speakout.federation.models import FederationSettings, PublishedArticle

        super().__init__()
        self.client = Client()
        config = FederationSettings.load()
        config.enabled = True
        config.username = "reports"
        config.save()
        PublishedArticle.objects.create(page_id=1, object_id=self.article, thread_key=PATH)
        self.account = RemoteKey(f"{REMOTE}/users/robin")

    def ban(self) -> None:
        from speakout.federation.inbox import actor_hashes

        BannedClient.objects.create(client_hash=actor_hashes(self.account.actor)[0], reason="abuse")

    def send(
        self, *, body, name="Robin", email="robin@example.org", parent=None, submission_id="", confirm=(), answers=None
    ):
        from speakout.federation.models import FederatedReply

        assert parent is None and not confirm and answers is None, "not something a Note carries"
        note_id = f"{self.account.url}/notes/{submission_id or uuid.uuid4().hex}"
        public = {"to": "https://www.w3.org/ns/activitystreams#Public", "cc": self.account.url + "/followers"}
        activity = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": note_id + "#create",
            "type": "Create",
            "actor": self.account.url,
            **public,
            "object": {"id": note_id, "type": "Note", "attributedTo": self.account.url,
                       "inReplyTo": self.article, "content": f"<p>{html.escape(body)}</p>", **public},
        }  # fmt: skip
        response = self.account.post(self.client, activity)
        if response.status_code == 202:
            stored = FederatedReply.objects.get(object_id=note_id)
            return Answer(stored_outcome(stored.reply_id), reply_id=stored.reply_id)
        assert response.status_code in (403, 429), response.status_code
        return Answer("rejected", text=response.json()["error"])


FRONT_ENDS = [HtmlForm, JsonApi, EmbedApi, IssoApi]
# Where the writer is a signed account: cases about the typed name, address, "post anyway" boxes
# or the client's address do not apply to the inbox.
SIGNED_FRONT_ENDS = [*FRONT_ENDS, FediverseInbox]


def _front_end(request, settings):
    settings.BASE_URL = "http://testserver"  # the inbox checks signatures against this host
    Thread.objects.create(key=PATH, url=f"{SITE}{PATH}", title="The contract")
    return request.param()


@pytest.fixture(params=FRONT_ENDS, ids=lambda front_end: front_end.name)
def front_end(request, settings, rules, allowed_site):
    return _front_end(request, settings)


@pytest.fixture(params=SIGNED_FRONT_ENDS, ids=lambda front_end: front_end.name)
def any_front_end(request, settings, rules, allowed_site):
    return _front_end(request, settings)


def replies() -> int:
    return Reply.objects.count()


def test_a_valid_reply_is_published(any_front_end):
    answer = any_front_end.send(body="A valid reply.")
    assert answer.outcome == "published" and replies() == 1
    assert Reply.objects.get(pk=answer.reply_id).body == "A valid reply."


def test_an_invalid_reply_is_refused_with_the_field_s_message(front_end):
    answer = front_end.send(body="A reply with a bad address.", email="not an address")
    assert answer.outcome == "rejected" and answer.says("Enter a valid email address.")
    assert replies() == 0


def test_personal_data_is_refused_with_post_anyway_then_held_once_confirmed(front_end):
    settings_row = SafetySettings.load()
    settings_row.personal_data_guard = True
    settings_row.save()
    warned = front_end.send(body=PHONE)
    assert warned.outcome == "rejected" and warned.says("Post anyway")
    assert warned.confirm == {"personal_data"}
    assert replies() == 0
    confirmed = front_end.send(body=PHONE, confirm=["personal_data"])
    assert confirmed.outcome == "held" and replies() == 1


def test_a_ban_recorded_under_an_older_client_key_still_holds(front_end):
    earlier = timezone.now() - timedelta(days=8)
    BannedClient.objects.create(client_hash=client_hashes_for_ip(TEST_CLIENT_IP, earlier)[0], reason="abuse")
    cache.clear()
    answer = front_end.send(body="Back under a new key.")
    assert answer.outcome == "held"
    assert Reply.objects.get(pk=answer.reply_id).status == Reply.Status.SPAM


def test_a_banned_writer_s_reply_is_held_as_spam(any_front_end):
    if isinstance(any_front_end, FediverseInbox):
        any_front_end.ban()
    else:
        BannedClient.objects.create(client_hash=client_hashes_for_ip(TEST_CLIENT_IP)[0], reason="abuse")
    cache.clear()
    answer = any_front_end.send(body="Banned, and trying again.")
    assert answer.outcome == "held"
    assert Reply.objects.get(pk=answer.reply_id).status == Reply.Status.SPAM


def test_a_second_reply_at_once_is_rate_limited(any_front_end):
    front_end = any_front_end
    assert front_end.send(body="The first reply.").outcome == "published"
    answer = front_end.send(body="The second reply, too soon.")
    assert answer.outcome == "rejected" and answer.says("You are replying too fast.")
    assert replies() == 1


def test_a_resent_submission_stores_one_reply(any_front_end):
    front_end = any_front_end
    submission_id = uuid.uuid4().hex
    first = front_end.send(body="Sent twice by a double click.", submission_id=submission_id)
    again = front_end.send(body="Sent twice by a double click.", submission_id=submission_id)
    assert first.outcome == again.outcome == "published"
    assert again.reply_id == first.reply_id and replies() == 1


def test_a_first_reply_is_held_when_the_rules_say_so(any_front_end, rules):
    rules.hold_first_reply = True
    rules.save()
    answer = any_front_end.send(body="My first words here.")
    assert answer.outcome == "held"
    assert Reply.objects.get(pk=answer.reply_id).status == Reply.Status.PENDING


def test_a_reply_deeper_than_the_display_keeps_its_parent(front_end, rules):
    thread = Thread.objects.get(key=PATH)
    parent = None
    for depth in range(rules.max_depth + 1):
        author = Author(client_hash=uuid.uuid4().hex, guest_token=new_guest_token())
        email = f"level{depth}@example.org"
        data = form_data(thread, body=f"Level {depth}.", email=email, parent=parent.pk if parent else "")
        parent = submit_reply(thread=thread, data=data, author=author).reply
    answer = front_end.send(body="Deeper still.", parent=parent.pk)
    assert answer.outcome == "published"
    reply = Reply.objects.get(pk=answer.reply_id)
    assert reply.parent_id == parent.pk and reply.depth == parent.depth + 1


def test_the_answers_box_asks_a_guest_to_confirm_and_unticked_asks_nothing(front_end):
    from speakout.outbox.models import OutgoingMail
    from speakout.subscriptions.models import Subscription

    asked = front_end.send(body="Tell me when someone answers.", answers=True)
    assert asked.outcome == "published"
    [row] = Subscription.objects.filter(reply_id=asked.reply_id)
    assert row.kind == "answers" and row.email == "robin@example.org" and row.confirmed_at is None
    [mail] = OutgoingMail.objects.filter(to="robin@example.org")
    assert "/subscriptions/confirm/" in mail.text_body
    cache.clear()  # past the rate limit
    quiet = front_end.send(body="Do not tell me.", email="quiet@example.org", answers=False)
    cache.clear()
    unsent = front_end.send(body="A client that shows no box.", email="unsent@example.org")
    assert quiet.outcome == unsent.outcome == "published", (quiet.text, unsent.text)
    assert not Subscription.objects.filter(reply_id__in=[quiet.reply_id, unsent.reply_id]).exists()
