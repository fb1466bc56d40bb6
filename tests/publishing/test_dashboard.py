"""The admin's first screen is a moderator's dashboard, and the heavy actions ask first."""

from __future__ import annotations

import pytest
from django.urls import reverse

from speakout.contact.models import ContactMessage
from speakout.discussion.models import Commenter, Flag, Reply
from speakout.safety.models import EvidenceHold
from tests.publishing.helpers import make_reply, queue_url

pytestmark = pytest.mark.django_db


def test_the_dashboard_shows_what_waits_with_links_and_the_last_decisions(admin_client, thread):
    make_reply(thread, status=Reply.Status.PENDING)
    make_reply(thread, status=Reply.Status.PENDING, email="b@example.org")
    reported = make_reply(thread, status=Reply.Status.APPROVED, email="c@example.org")
    Flag.objects.create(reply=reported, reason=Flag.Reason.HARASSMENT)
    ContactMessage.objects.create(name="Kim", email="kim@example.net", message="Hello")
    ContactMessage.objects.create(name="Bot", email="bot@example.net", message="Buy", is_spam=True)
    admin_client.post(queue_url("pending"), {"action": "approve", "ids": [reported.pk], "reason": "fine"})

    html = admin_client.get(reverse("wagtailadmin_home")).content.decode()
    panel = html[html.index('class="speakout-dashboard"') :]
    panel = panel[: panel.index("</section>")]
    for count, label, url in [
        (2, "Replies waiting for review", queue_url("pending")),
        (1, "Published replies with an open report", queue_url("reported")),
        (1, "Unread contact messages", reverse("speakout_contact:index")),
        (1, "Contact messages stopped by the spam filter", reverse("speakout_contact:index") + "?folder=spam"),
    ]:
        assert f'href="{url}"><span class="speakout-dashboard__count">{count}</span>' in panel, label
        assert label in panel
    assert "Last decisions" in panel and reverse("speakout_moderation:log") in panel


def test_hold_as_evidence_asks_first_and_needs_a_reason(admin_client, thread):
    reply = make_reply(thread, status=Reply.Status.APPROVED, body="A threat")
    thread.refresh_approved_count()
    Commenter.objects.filter(pk=reply.commenter_id).update(approved_count=1)  # as the write path leaves it
    queue = admin_client.get(queue_url("approved")).content.decode()
    confirm_url = f"{reverse('speakout_moderation:evidence_hold')}?hold={reply.pk}"
    assert confirm_url.replace("&", "&amp;") in queue or confirm_url in queue

    page = admin_client.get(confirm_url)
    assert page.status_code == 200 and "A threat" in page.content.decode()
    assert not EvidenceHold.objects.exists(), "looking at the confirmation holds nothing"

    admin_client.post(reverse("speakout_moderation:evidence_hold"), {"hold": str(reply.pk), "reason": " "})
    assert not EvidenceHold.objects.exists(), "no hold without a reason"
    admin_client.post(reverse("speakout_moderation:evidence_hold"), {"hold": str(reply.pk), "reason": "Threat"})
    assert EvidenceHold.objects.get().reply_id == reply.pk


def test_ban_is_reachable_from_the_queue_row_and_needs_a_reason(admin_client, thread):
    reply = make_reply(thread, status=Reply.Status.PENDING)
    commenter_url = reverse("speakout_moderation:commenter", args=[reply.commenter_id])
    assert f'href="{commenter_url}#ban"' in admin_client.get(queue_url("pending")).content.decode()

    admin_client.post(commenter_url, {"action": "ban", "reason": ""})
    assert not Commenter.objects.get(pk=reply.commenter_id).is_banned
    admin_client.post(commenter_url, {"action": "ban", "reason": "Threats"})
    assert Commenter.objects.get(pk=reply.commenter_id).is_banned


def test_contact_screens_are_headed_by_their_title(admin_client):
    html = admin_client.get(reverse("speakout_contact:index")).content.decode()
    assert "<h1" in html
    heading = html[html.index("<h1") :]
    assert "Contact messages" in heading[: heading.index("</h1>")]
