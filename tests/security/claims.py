"""Posting a reply through every front end that takes one (the HTML form, the JSON API, the embed
API and the Isso API) as a browser would, and reading the answer the same way for each: the
security tests of claimed identities (typed names and addresses) use it. The ``site`` fixture
(tests/security/conftest.py) opens the thread at ``KEY``, embedded on ``SITE``."""

from __future__ import annotations

import itertools
import json
import re
import time
import uuid
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.test import Client

from speakout.discussion.forms import issue_form_token
from speakout.discussion.models import Reply

SITE = "https://blog.example.org"
KEY = "/posts/one/"
FRONT_ENDS = ("form", "api", "embed", "isso")
_addresses = itertools.count(1)


@dataclass
class Answer:
    status: int
    outcome: str  # published, held or rejected
    code: str  # the refusal's code ("" when stored); Isso gives only its status and a message
    message: str
    avatar: str  # the public avatar key (Isso: its "hash") of a stored reply
    reply_id: int | None
    guest_token: str  # signed, for the API and the embed API


def fresh_client() -> Client:
    """Another browser on another network: no cookies, its own client hash."""
    return Client(HTTP_ORIGIN=SITE, REMOTE_ADDR=f"198.51.{next(_addresses) % 250}.{next(_addresses) % 250}")


def _avatar_in(html: str) -> str:
    found = re.search(r"/discussion/avatar/([0-9a-f]{16})", html)
    return found.group(1) if found else ""


def send(front: str, client: Client, *, guest: str = "", **fields) -> Answer:
    """Post one reply through a front end as a browser would, and read its answer."""
    fields = {"name": "Sam", "email": "sam@example.net", "body": "A reply.", **fields}
    token = issue_form_token(KEY, issued_at=time.time() - 10)
    headers = {"X-Speakout-Guest": guest} if guest else {}
    if front == "form":
        data = {"thread": KEY, "form_token": token, "submission_id": uuid.uuid4().hex, **fields}
        response = client.post("/discussion/post/", data, headers={"Accept": "application/json", **headers})
        body = response.json()
        if body["outcome"] == "rejected":
            message = " ".join(m for messages in body["errors"].values() for m in messages)
            code = "rate_limit" if response.status_code == 429 else "refused"
            return Answer(response.status_code, "rejected", code, message, "", None, "")
        return Answer(response.status_code, body["outcome"], "", "", _avatar_in(body["html"]), body["id"], "")
    if front in ("api", "embed"):
        payload = {"form_token": token, "submission_id": uuid.uuid4().hex, **fields}
        url = f"/api/threads/{KEY}/replies" if front == "api" else f"/embed/api/replies?key={KEY}"
        response = client.post(url, json.dumps(payload), content_type="application/json", headers=headers)
        body = response.json()
        if body["outcome"] == "rejected":
            message = " ".join(m for messages in body["errors"].values() for m in messages)
            return Answer(response.status_code, "rejected", body["code"], message, "", None, "")
        reply = body["reply"]
        return Answer(
            response.status_code,
            body["outcome"],
            "",
            "",
            _avatar_in(reply["avatar_url"]),
            reply["id"],
            body.get("guest_token", ""),
        )
    data = {"text": fields["body"], "author": fields["name"], "email": fields["email"], "website": None}
    response = client.post(f"/isso/new?uri={KEY}", json.dumps(data), content_type="application/json")
    if response.status_code in (201, 202):
        body = response.json()
        outcome = "published" if response.status_code == 201 else "held"
        return Answer(response.status_code, outcome, "", "", body["hash"], body["id"], "")
    message = response.content.decode()
    code = "rate_limit" if "few minutes" in message or "too fast" in message else "refused"
    return Answer(response.status_code, "rejected", code, message, "", None, "")


def public_avatar(front: str, reply: Reply) -> str:
    """The avatar (Isso: hash) the public sees on a published reply, read from that front end."""
    if front == "isso":
        listing = Client().get(f"/isso/?uri={KEY}").json()
        return next(item["hash"] for item in listing["replies"] if item["id"] == reply.pk)
    return reply.avatar_key


def make_owner(email: str = "victim@example.org", username: str = "victim"):
    """A site account whose address allauth verified (its mailed link was clicked)."""
    from allauth.account.models import EmailAddress

    user = get_user_model().objects.create_user(username, email, "pw-long-enough-1")
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user
