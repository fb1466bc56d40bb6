"""A page address sent by an embedding page becomes a thread's ``url``, which the site prints in
its mails to the thread's followers ("Read it and answer: …") and on its own pages. Anyone can
send an allowed origin's ``Origin`` from outside a browser, so the address must be an address:
``urlsplit`` drops tabs and line breaks, and what followed them ("URGENT: verify at
https://evil.example/login") passed as part of it, in the site's own voice."""

from __future__ import annotations

import json
import time
from urllib.parse import quote

import pytest
from django.core.cache import cache
from django.test import Client

from speakout.discussion.forms import issue_form_token
from speakout.discussion.models import Thread
from speakout.embed.models import AllowedOrigin

pytestmark = pytest.mark.django_db

SITE = "https://blog.example.org"
LURE = "\n\nURGENT: your account will be deleted - verify at https://evil.example/login\n"


@pytest.fixture
def embed_site(rules, settings):
    settings.SPEAKOUT_DISCUSSION_SECONDS_BETWEEN_REPLIES = 0
    settings.SPEAKOUT_DISCUSSION_BURST_LIMIT = (0, 600)
    cache.clear()
    AllowedOrigin.objects.create(origin=SITE)
    yield
    cache.clear()


def _by_embed_api(key: str, lure: str) -> int:
    payload = {
        "name": "Mallory",
        "email": "mallory@example.com",
        "body": "First!",
        "form_token": issue_form_token(key, time.time() - 10),
        "url": f"{SITE}{key}{lure}",
    }
    client = Client(HTTP_ORIGIN=SITE, REMOTE_ADDR="203.0.113.7")
    url = f"/embed/api/replies?key={quote(key)}"
    return client.post(url, json.dumps(payload), content_type="application/json").status_code


def _by_isso(key: str, lure: str) -> int:
    client = Client(HTTP_ORIGIN=SITE, REMOTE_ADDR="203.0.113.8")
    body = json.dumps({"text": "First from Isso!", "author": "Mallory", "email": "mallory2@example.com"})
    uri = f"{key}{' ' + lure.strip() if lure else ''}"
    return client.post(f"/isso/new?uri={quote(uri)}", body, content_type="application/json").status_code


def _by_hosted_page(key: str, lure: str) -> int:
    return Client().get("/embed/thread/", {"url": f"{SITE}{key}{lure}"}).status_code


@pytest.mark.parametrize("front_end", [_by_embed_api, _by_isso, _by_hosted_page], ids=["embed", "isso", "hosted"])
def test_a_page_address_with_words_after_it_starts_no_thread(embed_site, front_end):
    assert front_end("/posts/fresh/", "") in (200, 201, 202), "a plain address is taken"
    assert front_end("/posts/lure/", LURE) in (400, 404)
    assert not Thread.objects.filter(url__contains="evil.example").exists()
    assert not Thread.objects.filter(key__contains="evil.example").exists()
