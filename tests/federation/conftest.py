from __future__ import annotations

import json
import threading
from http.server import ThreadingHTTPServer
from types import SimpleNamespace

import pytest
from django.test import Client

from speakout.federation.models import FederationSettings

from .helpers import BASE_URL, REMOTE, Inbox, RemoteKey


@pytest.fixture
def federation(db, settings):
    settings.BASE_URL = BASE_URL
    config = FederationSettings.load()
    config.enabled = True
    config.username = "reports"
    config.save()
    return config


@pytest.fixture
def bob(db):
    return RemoteKey(f"{REMOTE}/users/bob")


@pytest.fixture
def admin(django_user_model):
    """A signed-in superuser's client, apart from the test's own (anonymous) ``client``."""
    client = Client()
    client.force_login(django_user_model.objects.create_superuser("admin", "admin@example.org", "pw"))
    return client


@pytest.fixture
def inbox(settings, federation):
    """A local server taking deliveries (what it took: ``Inbox.received``); yields its address."""
    settings.SPEAKOUT_FETCH_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    Inbox.status, Inbox.received = 202, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Inbox)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/inbox"
    server.shutdown()
    server.server_close()


@pytest.fixture
def wire(monkeypatch):
    """Every activity the worker puts on the wire, in order (the remote inbox takes each)."""
    from speakout.federation import delivery

    sent: list[dict] = []

    def fake_fetch(url, *, method="GET", body=b"", **kwargs):
        sent.append(json.loads(body))
        return SimpleNamespace(status=202)

    monkeypatch.setattr(delivery, "fetch", fake_fetch)
    return sent


@pytest.fixture
def served_notes(monkeypatch):
    """Notes as their servers serve them at their ids: ``served_notes[id] = note``. A Note whose id
    is not under its author's address is fetched from there before it is kept; an id not in
    the dict answers 404. ``served_notes.asked``: every address fetched."""
    from speakout.federation import remote

    served = ServedNotes()

    def fetch_document(url: str) -> dict:
        served.asked.append(url)
        if url not in served:
            raise remote.RemoteError("answered 404 text/html")
        return {"@context": "https://www.w3.org/ns/activitystreams", **served[url]}

    monkeypatch.setattr(remote, "fetch_document", fetch_document)
    return served


class ServedNotes(dict):
    """Notes by id, and the addresses the site asked for (``asked``), served or not."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []


@pytest.fixture
def member_replies(federation, site_builder, bob, rules):
    """Members may send their replies to the Fediverse; Bob follows; a report "Rivers" and its
    thread."""
    from speakout.discussion.models import Thread
    from speakout.federation.models import Follower

    federation.federate_member_replies = True
    federation.save()
    Follower.objects.create(actor=bob.actor, state=Follower.State.ACCEPTED, follow_id=bob.url + "#f")
    report = site_builder.report("Rivers", standfirst="Dry.")
    return report, Thread.objects.get(key=report.thread_key)
