"""The log of every remote fetch, delivery and inbox decision: each kind with its outcome, nothing
of what a refused message said, pruned after the retention, and shown to those allowed only."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.utils import timezone

from speakout.federation import delivery, jobs, remote
from speakout.federation.models import ActivityLog, Delivery
from speakout.net.fetch import Fetched, FetchRefused

from .helpers import BASE_URL, REMOTE

pytestmark = pytest.mark.django_db
AS = "https://www.w3.org/ns/activitystreams"
ACTOR = f"{BASE_URL}/federation/actor"
Outcome = ActivityLog.Outcome


@pytest.fixture
def client():
    return Client()


def answers(monkeypatch, module, *results):
    """``module.fetch`` answers ``results`` in turn (a Fetched, or an exception to raise)."""
    queue = list(results)

    def fake(url, **options):
        result = queue.pop(0)
        if isinstance(result, Exception):
            raise result
        return result

    monkeypatch.setattr(module, "fetch", fake)


def test_every_fetch_is_logged_with_its_outcome(federation, monkeypatch):
    url = f"{REMOTE}/users/dana"
    document = {"@context": AS, "id": url, "type": "Person", "preferredUsername": "dana", "inbox": url + "/inbox"}
    answers(
        monkeypatch,
        remote,
        Fetched(url, 200, "application/activity+json", json.dumps(document).encode()),
        Fetched(url, 410, "text/html", b"gone"),
        FetchRefused("the address is not public"),
    )
    remote.fetch_document(url)
    for _attempt in range(2):
        with pytest.raises(remote.RemoteError):
            remote.fetch_document(url)
    ok, gone, refused = ActivityLog.objects.order_by("pk")
    assert (ok.kind, ok.outcome, ok.status_code, ok.host, ok.activity_type) == (
        "fetch", Outcome.OK, 200, "remote.example", "Person"
    )  # fmt: skip
    assert (gone.outcome, gone.status_code, gone.ok) == (Outcome.STATUS, 410, False)
    assert (refused.outcome, refused.status_code, refused.detail) == (Outcome.ERROR, None, "the address is not public")


def test_every_delivery_attempt_is_logged_with_its_number_and_answer(federation, monkeypatch):
    inbox = f"{REMOTE}/inbox"
    answers(
        monkeypatch,
        delivery,
        Fetched(inbox, 503, "text/plain", b""),
        FetchRefused("timed out"),
        Fetched(inbox, 202, "", b""),
    )
    activity = {"id": f"{BASE_URL}/federation/activities/create/1", "type": "Create"}
    owed = Delivery.objects.create(activity_id=activity["id"], inbox=inbox, payload=activity)
    for _attempt in range(3):
        Delivery.objects.filter(pk=owed.pk).update(next_attempt_at=timezone.now())
        delivery.deliver_due()
    rows = [
        (row.kind, row.attempt, row.outcome, row.status_code, row.activity_type, row.host)
        for row in ActivityLog.objects.order_by("pk")
    ]
    assert rows == [
        ("delivery", 1, Outcome.STATUS, 503, "Create", "remote.example"),
        ("delivery", 2, Outcome.ERROR, None, "Create", "remote.example"),
        ("delivery", 3, Outcome.OK, 202, "Create", "remote.example"),
    ]


def follow(remote_key) -> dict:
    return {"@context": AS, "id": f"{remote_key.url}#follow-{uuid.uuid4().hex}", "type": "Follow",
            "actor": remote_key.url, "object": ACTOR}  # fmt: skip


def test_every_inbox_decision_is_logged_and_a_refused_message_s_words_are_not(
    federation, client, bob, site_builder, monkeypatch
):
    monkeypatch.setattr(delivery, "_enqueue", lambda: None)
    assert bob.post(client, follow(bob)).status_code == 202
    accepted = ActivityLog.objects.get()
    assert (accepted.kind, accepted.outcome, accepted.status_code, accepted.activity_type, accepted.host) == (
        "inbox", Outcome.OK, 202, "Follow", "remote.example"
    )  # fmt: skip

    body = json.dumps(follow(bob)).encode()
    assert client.post("/federation/inbox", body, content_type="application/activity+json").status_code == 401
    unsigned = ActivityLog.objects.latest("pk")
    assert (unsigned.outcome, unsigned.status_code, unsigned.host, unsigned.url) == (
        Outcome.SIGNATURE, 401, "remote.example", bob.url
    )  # fmt: skip

    # A direct message is refused; the log says so, and keeps nothing it said.
    secret = "My home address is 12 Hidden Lane"
    report = site_builder.report("Rivers")
    from speakout.federation.models import PublishedArticle

    note_id = f"{bob.url}/notes/{uuid.uuid4().hex}"
    direct = {"@context": AS, "id": note_id + "#create", "type": "Create", "actor": bob.url, "to": ACTOR,
              "object": {"id": note_id, "type": "Note", "attributedTo": bob.url, "to": ACTOR,
                         "inReplyTo": PublishedArticle.objects.get(page_id=report.pk).object_id,
                         "content": f"<p>{secret}</p>"}}  # fmt: skip
    assert bob.post(client, direct).status_code == 403
    refused = ActivityLog.objects.latest("pk")
    assert (refused.outcome, refused.status_code, refused.activity_type) == (Outcome.REFUSED, 403, "Create(Note)")
    for row in ActivityLog.objects.values():
        assert "Hidden Lane" not in json.dumps(row, default=str)

    federation.blocked_domains = "remote.example"
    federation.save()
    assert bob.post(client, follow(bob)).status_code == 403
    blocked = ActivityLog.objects.latest("pk")
    assert (blocked.outcome, blocked.status_code, blocked.host) == (Outcome.BLOCKED, 403, "remote.example")

    # Refused before it is read: the wrong type, or too large.
    assert client.post("/federation/inbox", b"{}", content_type="text/plain").status_code == 415
    wrong_type = ActivityLog.objects.latest("pk")
    assert (wrong_type.outcome, wrong_type.status_code, wrong_type.url) == (Outcome.REFUSED, 415, "/federation/inbox")
    large = b'{"a": "' + b"x" * 300_000 + b'"}'
    assert client.post("/federation/inbox", large, content_type="application/activity+json").status_code == 413
    assert ActivityLog.objects.latest("pk").status_code == 413


def test_old_entries_are_pruned_by_the_app_s_scheduled_job(federation, settings):
    settings.SPEAKOUT_FEDERATION_LOG_RETENTION_DAYS = 7
    old = ActivityLog.objects.create(kind="fetch", url="https://a.example/", ok=True)
    ActivityLog.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=8))
    recent = ActivityLog.objects.create(kind="fetch", url="https://a.example/", ok=True)
    ActivityLog.objects.filter(pk=recent.pk).update(created_at=timezone.now() - timedelta(days=6))
    assert ("federation_log_prune", 3600, "speakout.federation.jobs.prune_log") in jobs.schedule()
    assert jobs.prune_log() == 1
    assert list(ActivityLog.objects.values_list("pk", flat=True)) == [recent.pk]


LOG = "/admin/fediverse-log/"


def test_the_log_screen_filters_by_host_and_outcome_for_those_allowed_only(federation, django_user_model):
    ActivityLog.objects.create(kind="delivery", url="https://one.example/inbox", host="one.example", ok=True,
                               activity_type="Create", status_code=202, attempt=1)  # fmt: skip
    ActivityLog.objects.create(kind="delivery", url="https://two.example/inbox", host="two.example", ok=False,
                               outcome=Outcome.STATUS, activity_type="Update", status_code=500, attempt=3)  # fmt: skip
    staff = Client()
    staff.force_login(django_user_model.objects.create_superuser("admin", "admin@example.org", "pw"))
    page = staff.get(LOG)
    assert page.status_code == 200
    text = page.content.decode()
    assert "one.example" in text and "two.example" in text
    by_host = staff.get(LOG, {"host__icontains": "two"}).content.decode()
    assert "https://two.example/inbox" in by_host and "https://one.example/inbox" not in by_host
    by_outcome = staff.get(LOG, {"outcome": "ok"}).content.decode()
    assert "https://one.example/inbox" in by_outcome and "https://two.example/inbox" not in by_outcome
    # Nothing to add, edit or delete: a record.
    assert staff.get(LOG + "new/").status_code == 404

    # A signed-in reader without admin access, and an editor without the permission, are refused.
    reader = Client()
    reader.force_login(django_user_model.objects.create_user("reader", "reader@example.org", "pw"))
    assert reader.get(LOG).status_code == 302
    editors = Group.objects.create(name="Log-less editors")
    editors.permissions.add(Permission.objects.get(codename="access_admin"))
    editor = django_user_model.objects.create_user("editor", "editor@example.org", "pw")
    editor.groups.add(editors)
    as_editor = Client()
    as_editor.force_login(editor)
    refused = as_editor.get(LOG)
    assert refused.status_code in (302, 403)
    assert "two.example" not in refused.content.decode()
    # Given the permission, they see it.
    editors.permissions.add(Permission.objects.get(codename="view_activitylog"))
    assert as_editor.get(LOG).status_code == 200
