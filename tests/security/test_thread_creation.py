"""Threads started from outside: a page's thread exists only once a reply to it is accepted, and
its title is the page's address on the allowed origin, never text the caller sent.

The attack: with one allowed embed origin, a script (not a browser: it sets ``Origin`` itself)
posted to ``/isso/new``, ``/embed/api/replies`` and ``/embed/thread/post/`` with a fresh page
path each time and a title such as "URGENT: your account will be deleted - verify at
https://evil.example/login". Each thread was created before its reply was checked and kept
when the reply was refused, so refusals (which spend no rate limit) made unlimited threads with
attacker titles, which the site then put into its pages and mails.
"""

from __future__ import annotations

import json
import uuid

import pytest
from django.test import Client

from speakout.discussion.models import Reply, Thread
from speakout.embed.models import AllowedOrigin
from tests.discussion.helpers import old_form_token, publishing_rules

pytestmark = pytest.mark.django_db

SITE = "https://blog.example.org"
PHISHING = "URGENT: your account will be deleted - verify at https://evil.example/login"


@pytest.fixture
def allowed_site(db):
    publishing_rules()
    return AllowedOrigin.objects.create(origin=SITE)


def isso(client: Client, path: str, **fields):
    data = {"text": "Hello there, page.", "author": "Mal", "email": "mal@example.org", "title": PHISHING, **fields}
    return client.post(f"/isso/new?uri={path}", json.dumps(data), content_type="application/json")


def embed_api(client: Client, path: str, **fields):
    payload = {
        "name": "Mal",
        "email": "mal@example.org",
        "body": "Hello there, page.",
        "form_token": old_form_token(path),
        "url": f"{SITE}{path}",
        "title": PHISHING,
        "submission_id": uuid.uuid4().hex,
        **fields,
    }
    return client.post(f"/embed/api/replies?key={path}", json.dumps(payload), content_type="application/json")


def hosted_form(client: Client, path: str, **fields):
    data = {
        "thread": path,
        "name": "Mal",
        "email": "mal@example.org",
        "body": "Hello there, page.",
        "form_token": old_form_token(path),
        "submission_id": uuid.uuid4().hex,
        **fields,
    }
    query = {"url": f"{SITE}{path}", "title": PHISHING}
    return client.post("/embed/thread/post/?" + "&".join(f"{k}={v}" for k, v in query.items()), data)


FRONT_ENDS = {"isso": isso, "embed_api": embed_api, "hosted_form": hosted_form}


@pytest.mark.parametrize("send", FRONT_ENDS.values(), ids=FRONT_ENDS.keys())
def test_refused_replies_start_no_thread(send, allowed_site):
    attacker = Client(HTTP_ORIGIN=SITE)
    for number in range(5):
        answer = send(attacker, f"/bait-{number}/", email="not an address")
        assert answer.status_code in (400, 403), answer.status_code
    assert not Thread.objects.exists()


@pytest.mark.parametrize("send", FRONT_ENDS.values(), ids=FRONT_ENDS.keys())
def test_the_rate_limit_bounds_the_threads_one_client_starts(send, allowed_site):
    attacker = Client(HTTP_ORIGIN=SITE)
    answers = [send(attacker, f"/bait-{number}/", email=f"mal{number}@example.org") for number in range(5)]
    assert answers[0].status_code in (201, 303)
    assert all(answer.status_code in (403, 429) for answer in answers[1:]), [a.status_code for a in answers]
    assert Thread.objects.count() == 1 == Reply.objects.count()


@pytest.mark.parametrize("send", FRONT_ENDS.values(), ids=FRONT_ENDS.keys())
def test_a_started_thread_is_titled_by_its_address_not_the_caller(send, allowed_site):
    answer = send(Client(HTTP_ORIGIN=SITE), "/a-real-post/")
    assert answer.status_code in (201, 303)
    thread = Thread.objects.get()
    assert thread.title == f"{SITE}/a-real-post/" and PHISHING not in thread.title


def test_a_long_page_address_makes_a_capped_title(allowed_site):
    path = "/" + "x" * 900 + "/"
    assert isso(Client(HTTP_ORIGIN=SITE), path).status_code == 201
    assert len(Thread.objects.get().title) <= 200
