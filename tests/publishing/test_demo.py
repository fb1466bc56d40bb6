"""The demo content: the collective's pages and reports, and the discussion under the conference
report, posted through the reply pipeline with a few replies left in the moderation queues."""

import re

import pytest
from django.utils import timezone
from django.utils.html import escape

from speakout.discussion.models import Commenter, DiscussionSettings, Flag, Reply, Thread
from speakout.publishing.demo import load_demo_content
from speakout.publishing.demo_discussion import PEOPLE, load_demo_discussion
from speakout.publishing.models import HomePage, ReportPage, StandardPage

pytestmark = pytest.mark.django_db

HIDDEN_TEXTS = [
    "07700 900 417",  # held: a phone number (hold word)
    "those two steps at the door",  # held: a first-time commenter
    "threat-model-basics",  # held: several links
    "Our professional writers",  # spam: the honeypot was filled in
    "crypto signals",  # spam: a block word
]


@pytest.fixture
def demo(db):
    assert load_demo_content() is True
    report = ReportPage.objects.get(slug="peer-safety-conference-lisbon")
    thread = Thread.objects.get(key=report.thread_key)
    return report, thread


def test_demo_creates_the_site_and_a_threaded_discussion(demo):
    report, thread = demo
    english = {"locale__language_code": "en"}
    assert HomePage.objects.filter(**english).count() == 1
    assert ReportPage.objects.live().filter(**english).count() == 4
    titles = set(StandardPage.objects.live().values_list("title", flat=True))
    assert titles == {"About", "Get involved"}

    replies = list(Reply.objects.filter(thread=thread))
    approved = [reply for reply in replies if reply.status == Reply.Status.APPROVED]
    pending = [reply for reply in replies if reply.status == Reply.Status.PENDING]
    spam = [reply for reply in replies if reply.status == Reply.Status.SPAM]

    assert 35 <= len(replies) <= 50
    assert len(approved) >= 30
    assert len(pending) == 3 and len(spam) == 2
    assert all(reply.moderation_reason for reply in pending + spam)
    assert not any(reply.moderation_reason for reply in approved)
    assert thread.approved_count == len(approved)
    assert max(reply.depth for reply in approved) >= 3
    assert sum(1 for reply in approved if reply.depth == 0 and not reply.children.exists()) >= 2, (
        "a few plain top-level replies"
    )
    assert len({reply.author_name for reply in replies}) >= 15
    assert any(reply.author_website for reply in approved)
    assert DiscussionSettings.load().hold_first_reply is True, "the stored settings are untouched"
    assert Commenter.objects.filter(display_name="Gareth W.").get().approved_count == 2

    # Held and spam replies say why.
    held = Reply.objects.filter(thread=thread).exclude(status=Reply.Status.APPROVED)
    reasons = set(held.values_list("moderation_reason", flat=True))
    assert "Has 3 links." in reasons
    assert "First reply from this commenter." in reasons
    assert "Contains “whatsapp”." in reasons
    assert "A field only robots see was filled in." in reasons
    assert "Contains “crypto signals”." in reasons

    # One published, off-topic reply carries a reader's report, still open.
    flag = Flag.objects.get(reply__thread=thread)
    assert flag.reason == Flag.Reason.OTHER
    assert flag.resolved_at is None
    assert flag.reply.status == Reply.Status.APPROVED

    # Reply times follow the conversation: after the report, parents before children.
    now = timezone.now()
    for reply in Reply.objects.filter(thread=thread).select_related("parent"):
        assert report.date < reply.created_at <= now
        if reply.parent is not None:
            assert reply.parent.created_at < reply.created_at
    top_level = list(Reply.objects.filter(thread=thread, depth=0).order_by("path"))
    by_time = sorted(top_level, key=lambda reply: reply.created_at)
    assert top_level == by_time, "reading order is time order"
    times = {reply.created_at.date() for reply in top_level}
    assert len(times) >= 3, "spread over several days"


def test_report_page_shows_published_replies_only(client, demo):
    report, thread = demo
    approved = Reply.objects.filter(thread=thread, status=Reply.Status.APPROVED)

    response = client.get(report.url)
    html = response.content.decode()

    assert response.status_code == 200
    assert f"{approved.count()} replies" in html
    for name in ["Juniper", "Aunty Sal", "Hanne V.", "Dani from Riverside Outreach", "Ren K."]:
        assert escape(name) in html
    assert "<blockquote>" in html and "<em>" in html and "<li>" in html
    assert 'href="https://example.org/harbour-lane/research-agreement"' in html
    for text in HIDDEN_TEXTS:
        assert escape(text) not in html
    for name in [PEOPLE[handle].name for handle in ("quietcat", "goldie", "essays", "crypto")]:
        assert escape(name) not in html
    assert "Awaiting moderation" not in html


def test_loading_twice_changes_nothing(demo):
    report, thread = demo
    models = (HomePage, ReportPage, StandardPage, Reply, Flag, Commenter)
    counts = [model.objects.count() for model in models]

    assert load_demo_content() is False
    summary = load_demo_discussion(report)

    assert summary["created"] is False
    assert [model.objects.count() for model in models] == counts
    assert summary["approved"] == Thread.objects.get(pk=thread.pk).approved_count
    queues = (summary["pending"], summary["spam"], summary["flags"], summary["rejected"])
    assert queues == (3, 2, 1, 0)


def test_demo_has_one_report_in_french(client, demo):
    """The evictions report, with the home page and the reports index it needs, in French (a
    discussion of its own, empty), linked from the English one by the switcher and hreflang."""
    english = ReportPage.objects.get(slug="evictions-after-licensing-rules")
    french = ReportPage.objects.live().get(locale__language_code="fr")
    assert french.translation_key == english.translation_key
    assert french.url == "/fr/rapports/nulle-part-ou-aller/"
    assert list(HomePage.objects.live().values_list("locale__language_code", flat=True).order_by("pk")) == ["en", "fr"]
    html = client.get(english.url).content.decode()
    assert re.search(rf'<link rel="alternate" hreflang="fr" href="https?://[^/"]+{french.url}">', html)
    page = client.get(french.url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="fr"' in page
    assert "Nulle part où aller" in page and "Ce que nous demandons" in page
    assert "Nowhere to Go" not in page.split('class="translations"')[0]
    assert "Nulle part où aller" in client.get("/fr/").content.decode()
    assert "Nulle part où aller" in client.get("/fr/rapports/feed/rss/").content.decode()
    assert Reply.objects.filter(thread__key=french.thread_key).count() == 0
