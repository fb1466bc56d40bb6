"""Followers in the admin: one held for approval is accepted by a moderator (an Accept goes
out), and a removed one is told with a Reject."""

from __future__ import annotations

import pytest

from speakout.federation import delivery
from speakout.federation.models import Delivery, Follower


@pytest.fixture
def admin(client, django_user_model):
    user = django_user_model.objects.create_superuser("admin", "admin@example.org", "pw")
    client.force_login(user)
    return client


def test_a_moderator_approves_then_removes_a_follower(federation, admin, bob, monkeypatch):
    monkeypatch.setattr(delivery, "_enqueue", lambda: None)
    follower = Follower.objects.create(actor=bob.actor, follow_id=bob.url + "#follow")
    listing = admin.get("/admin/snippets/speakout_federation/follower/")
    assert listing.status_code == 200 and "@bob@remote.example" in listing.content.decode()
    edit = f"/admin/snippets/speakout_federation/follower/edit/{follower.pk}/"
    assert admin.post(edit, {"state": "accepted"}).status_code == 302
    accept = Delivery.objects.get(payload__type="Accept")
    assert accept.inbox == bob.actor.inbox and accept.payload["object"]["id"] == bob.url + "#follow"
    delete = f"/admin/snippets/speakout_federation/follower/delete/{follower.pk}/"
    assert admin.post(delete).status_code == 302
    assert not Follower.objects.exists()
    reject = Delivery.objects.get(payload__type="Reject")
    assert reject.inbox == bob.actor.inbox and reject.payload["object"]["id"] == bob.url + "#follow"
