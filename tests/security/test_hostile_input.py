"""Every hostile or fragile value of ``corpus.py``, in every field, through the HTML form and the
JSON API. Each attempt must end as published, held or refused with a field-specific reason and
the typed text returned: never a 500, never a silent rewrite. Then every place the stored replies
appear (the report page, the moderation queues and commenter history, the feeds, the
notification and moderator mails) must show them as text only: no commenter script can run."""

from __future__ import annotations

import io
import json
import time
import uuid
from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.utils.html import escape

from speakout.discussion.forms import issue_form_token
from speakout.discussion.models import Commenter, DiscussionSettings, Reply
from speakout.outbox.models import OutgoingMail
from speakout.publishing.discussion import thread_for_report
from speakout.subscriptions.models import Subscription
from speakout.subscriptions.services import send_due_reply_notifications

from . import corpus
from .executable import assert_no_live_payload

pytestmark = pytest.mark.django_db

OUTCOMES = {"published", "held", "refused"}


@pytest.fixture
def open_rules(settings):
    """Everything that would refuse an attempt for reasons other than its content is off: the
    per-client pause, the burst limit, the refusal budget (the corpus is hundreds of refusals
    from one client) and the first-reply hold. Content rules stay as shipped."""
    settings.SPEAKOUT_DISCUSSION_SECONDS_BETWEEN_REPLIES = 0
    settings.SPEAKOUT_DISCUSSION_BURST_LIMIT = (0, 600)
    settings.SPEAKOUT_DISCUSSION_REFUSAL_LIMIT = (0, 600)
    settings.SPEAKOUT_MODERATOR_ALERTS_PER_HOUR = 0
    settings.BASE_URL = "http://testserver"
    cache.clear()
    rules = DiscussionSettings.load()
    rules.hold_first_reply = False
    rules.replies_per_page = 1000  # every reply on one page, to check them all
    rules.save()
    yield rules
    cache.clear()


@pytest.fixture
def reports(site_builder, open_rules):
    """Two reports (one per channel, so the same text is no duplicate), a subscriber on each and
    a moderator with an address, so notification and moderator mails are made too."""
    form_report = site_builder.report("Report for the form")
    api_report = site_builder.report("Report for the API")
    threads = {"form": thread_for_report(form_report), "api": thread_for_report(api_report)}
    for thread in threads.values():
        Subscription.objects.create(
            email="watcher@example.org",
            kind="thread",
            thread=thread,
            target=Subscription.target_for("thread", thread),
            confirmed_at=thread.created_at,
        )
    get_user_model().objects.create_superuser("mod", "mod@example.org", "x")
    return {"form": form_report, "api": api_report}, threads


def base_fields(number: int) -> dict:
    return {
        "name": f"Tester {number}",
        "email": f"tester{number}@example.org",
        "website": "",
        "body": f"Case {number}: an ordinary reply.",
    }


def send_form(client, thread, fields):
    data = {
        "thread": thread.key,
        "form_token": issue_form_token(thread.key, issued_at=time.time() - 10),
        "submission_id": uuid.uuid4().hex,
        **fields,
    }
    response = client.post("/discussion/post/", data)
    if response.status_code in (302, 303):
        return "stored", response
    assert response.status_code == 400, f"form answered {response.status_code} for {fields!r:.200}"
    page = response.content.decode()
    assert 'class="errorlist' in page or "field__error" in page, "a refusal must say why"
    # The typed text comes back in the form, escaped, so nothing is lost.
    typed = fields["body"].replace("\r\n", "\n")
    if typed.strip() and "\x00" not in typed:
        assert escape(typed.strip()) in page, "the typed text must be returned"
    return "refused", response


def send_api(client, thread, fields):
    payload = {"form_token": issue_form_token(thread.key, issued_at=time.time() - 10), **fields}
    response = client.post(f"/api/threads/{thread.key}/replies", json.dumps(payload), content_type="application/json")
    if response.status_code in (200, 201, 202):
        return "stored", response
    assert response.status_code in (400, 422), f"API answered {response.status_code} for {fields!r:.200}"
    data = response.json()
    assert data["outcome"] == "rejected" and data["errors"], "a refusal must say why"
    return "refused", response


CHANNELS = {"form": send_form, "api": send_api}


def send_every_case(client, channels) -> tuple[Counter, list[Reply]]:
    """Every corpus case through each channel (``{name: (send, target)}``): each is stored (as
    typed, for a body) or refused without a row. Returns the outcomes by channel and status, and
    the replies stored from a hostile body."""
    tally: Counter = Counter()
    stored = []
    for channel, (send, target) in channels.items():
        for number, (field, value) in enumerate(corpus.every_field_case()):
            fields = base_fields(number)
            fields[field] = value
            before = Reply.objects.count()
            result, _response = send(client, target, fields)
            after = Reply.objects.count()
            if result == "stored":
                assert after == before + 1, f"{channel} said stored but stored {after - before} replies"
                reply = Reply.objects.latest("pk")
                tally[(channel, reply.status)] += 1
                if field == "body":
                    assert reply.body.strip() == value.replace("\r\n", "\n").strip(), "no silent rewrite"
                    stored.append(reply)
            else:
                assert after == before, f"{channel} refused but stored a reply"
                tally[(channel, "refused")] += 1
    return tally, stored


def test_every_hostile_value_is_stored_as_typed_or_refused_with_a_reason_and_runs_nowhere(
    client, admin_client, reports
):
    pages, threads = reports
    tally, stored_as_typed = send_every_case(
        client, {channel: (send, threads[channel]) for channel, send in CHANNELS.items()}
    )
    attempts = 2 * len(corpus.every_field_case())
    assert sum(tally.values()) == attempts
    # Text that must survive is stored, and shown, as typed.
    for value in corpus.MUST_SURVIVE:
        assert any(reply.body == value for reply in stored_as_typed), f"{value!r} did not survive"

    # Public pages: the reports themselves, approved replies included.
    for page in pages.values():
        html = client.get(page.url).content.decode()
        assert_no_live_payload(html, f"the report page {page.url}")
        assert escape(corpus.MUST_SURVIVE[0]) in html or corpus.MUST_SURVIVE[0] in html

    # Feeds: the site's and each thread's, both flavours.
    for flavour in ("rss", "atom"):
        feed = client.get(f"/discussion/feed/{flavour}/")
        assert feed.status_code == 200
        assert_no_live_payload(_feed_entries_as_html(feed.content.decode()), f"the {flavour} feed")
        for thread in threads.values():
            feed = client.get(f"/discussion/thread/{thread.key}/feed/{flavour}/")
            assert feed.status_code == 200
            assert_no_live_payload(_feed_entries_as_html(feed.content.decode()), f"{thread.key}'s {flavour} feed")

    # The admin: every queue, and the history of a few commenters.
    for queue in ("pending", "approved", "spam", "trash", "reported"):
        response = admin_client.get(f"/admin/replies/{queue}/")
        assert response.status_code == 200
        assert_no_live_payload(response.content.decode(), f"the {queue} queue")
    for commenter in Commenter.objects.order_by("pk")[:20]:
        response = admin_client.get(f"/admin/replies/commenters/{commenter.pk}/")
        assert response.status_code == 200
        assert_no_live_payload(response.content.decode(), f"commenter {commenter.pk}'s history")

    # Mails: reply notifications (queued by the worker) and moderator mails, both parts.
    send_due_reply_notifications()
    mails = list(OutgoingMail.objects.all())
    assert any(mail.to == "watcher@example.org" for mail in mails), "notifications were made"
    for mail in mails:
        assert_no_live_payload(mail.html_body, f"the mail {mail.subject!r}")
        assert "\n" not in mail.subject and "\r" not in mail.subject

    # Exports: the WXR file is well-formed XML whose comment text runs nowhere and that gives every
    # reply back exactly as stored (WordPress's importer reads it), and the JSON export does the same.
    assert_exports_give_back(Reply.objects.all())

    print("hostile input:", dict(sorted(tally.items())))


def assert_exports_give_back(replies) -> None:
    from defusedxml.ElementTree import fromstring

    from speakout.interchange.json_export import export_json
    from speakout.interchange.wxr_export import export_wxr

    wxr = io.StringIO()
    export_wxr(wxr)
    root = fromstring(wxr.getvalue().encode())  # raises on anything that is not well-formed XML
    wp = "{http://wordpress.org/export/1.2/}"
    exported = {
        comment.findtext(f"{wp}comment_id"): (
            comment.findtext(f"{wp}comment_content") or "",
            comment.findtext(f"{wp}comment_author") or "",
            {
                meta.findtext(f"{wp}meta_key"): meta.findtext(f"{wp}meta_value") or ""
                for meta in comment.iter(f"{wp}commentmeta")
            },
        )
        for comment in root.iter(f"{wp}comment")
    }
    dump = io.StringIO()
    export_json(dump)
    strings = set()

    def collect(value):
        if isinstance(value, str):
            strings.add(value)
        elif isinstance(value, dict):
            for item in value.values():
                collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)

    collect(json.loads(dump.getvalue()))
    for reply in replies:
        # WordPress shows comment content and author names as HTML: what Speakout shows goes there,
        # and the reply's own text rides along in comment meta (see test_hostile_export.py).
        content, name, meta = exported[str(reply.pk)]
        assert (content, name) == (reply.body_html, escape(reply.author_name)), f"reply {reply.pk} in the WXR export"
        assert_no_live_payload(content, f"reply {reply.pk} in the WXR export")
        assert meta["_speakout_source"] == "speakout:" + reply.body, f"reply {reply.pk}'s text in the WXR export"
        assert reply.body in strings, f"reply {reply.pk} in the JSON export"


def _feed_entries_as_html(xml: str) -> str:
    """Feed readers show entry content as HTML: decode the XML-escaped content to check it."""
    import html as html_module
    import re

    parts = re.findall(r"<(?:description|content|summary)[^>]*>(.*?)</(?:description|content|summary)>", xml, re.S)
    return "\n".join(html_module.unescape(part) for part in parts)


# The embed widget's API and Isso's API ---------------------------------------------------------

EMBED_SITE = "https://blog.example.org"


def send_embed(client, key, fields):
    payload = {
        "form_token": issue_form_token(key, issued_at=time.time() - 10),
        "url": f"{EMBED_SITE}{key}",
        "title": "An embedded page",
        **fields,
    }
    response = client.post(
        f"/embed/api/replies?key={key}", json.dumps(payload), content_type="application/json", HTTP_ORIGIN=EMBED_SITE
    )
    if response.status_code in (200, 201):
        return "stored", response
    assert response.status_code == 400, f"embed API answered {response.status_code} for {fields!r:.200}"
    data = response.json()
    assert data["outcome"] == "rejected" and data["errors"], "a refusal must say why"
    return "refused", response


def send_isso(client, key, fields):
    payload = {"text": fields["body"], "author": fields["name"], "email": fields["email"], "parent": None}
    payload["website"] = fields["website"] or None
    response = client.post(
        f"/isso/new?uri={key}", json.dumps(payload), content_type="application/json", HTTP_ORIGIN=EMBED_SITE
    )
    if response.status_code in (201, 202):
        return "stored", response
    # Isso's own codes: 400 for a malformed comment, 403 for a refusal by its guard; both say why.
    assert response.status_code in (400, 403), f"Isso API answered {response.status_code} for {fields!r:.200}"
    assert response.content.strip(), "a refusal must say why"
    return "refused", response


def _as_inserted(replies, html_field: str, name_field: str, website_field: str) -> str:
    """Replies as a widget inserts them: the HTML field as HTML, the name as escaped text, the
    website as a link's address (a listing's children are walked too)."""
    parts = []
    for reply in replies:
        website = reply.get(website_field) or ""
        parts.append(f'<a href="{escape(website)}">{escape(reply.get(name_field) or "")}</a>')
        parts.append(reply.get(html_field) or "")
        parts.append(
            _as_inserted(reply.get("children") or reply.get("replies") or [], html_field, name_field, website_field)
        )
    return "\n".join(parts)


def test_every_hostile_value_through_the_embed_and_isso_apis_runs_nowhere(client, admin_client, open_rules):
    """The same corpus through /embed/api/ and /isso/: stored as typed or refused with a reason,
    then harmless wherever it shows: both APIs' listings (their HTML fields as a widget inserts
    them), the hosted thread page, the feeds, every moderation queue and the mails."""
    from speakout.discussion.models import Thread
    from speakout.embed.models import AllowedOrigin

    AllowedOrigin.objects.create(origin=EMBED_SITE)
    get_user_model().objects.create_superuser("mod", "mod@example.org", "x")
    channels = {"embed": (send_embed, "/hostile/embed/"), "isso": (send_isso, "/hostile/isso/")}
    tally, stored = send_every_case(client, channels)
    stored_bodies = [reply.body for reply in stored]
    assert sum(tally.values()) == 2 * len(corpus.every_field_case())
    for value in corpus.MUST_SURVIVE:
        assert stored_bodies.count(value) == 2, f"{value!r} did not survive both APIs"

    # The widgets' listings: every string is what a script would insert as HTML.
    listing = client.get("/embed/api/thread?key=/hostile/embed/", HTTP_ORIGIN=EMBED_SITE)
    assert listing.status_code == 200
    embedded = _as_inserted(listing.json()["replies"], "body_html", "author_name", "author_website")
    assert_no_live_payload(embedded, "the embed API's listing")
    isso = client.get("/isso/?uri=/hostile/isso/", HTTP_ORIGIN=EMBED_SITE)
    assert isso.status_code == 200
    assert_no_live_payload(_as_inserted(isso.json()["replies"], "text", "author", "website"), "the Isso API's listing")
    assert isso.json()["total_replies"] > 0

    # The hosted page of each thread, as a reader without scripts opens it.
    for key in ("/hostile/embed/", "/hostile/isso/"):
        page = client.get("/embed/thread/", {"url": f"{EMBED_SITE}{key}"})
        assert page.status_code == 200
        assert_no_live_payload(page.content.decode(), f"the hosted page of {key}")

    # Feeds, the moderation queues and the mails.
    for flavour in ("rss", "atom"):
        for thread in Thread.objects.filter(key__startswith="/hostile/"):
            feed = client.get(f"/discussion/thread/{thread.key}/feed/{flavour}/")
            assert feed.status_code in (200, 404)
            assert_no_live_payload(_feed_entries_as_html(feed.content.decode()), f"{thread.key}'s {flavour} feed")
    for queue in ("pending", "approved", "spam", "trash", "reported"):
        response = admin_client.get(f"/admin/replies/{queue}/")
        assert response.status_code == 200
        assert_no_live_payload(response.content.decode(), f"the {queue} queue")
    for mail in OutgoingMail.objects.all():
        assert_no_live_payload(mail.html_body, f"the mail {mail.subject!r}")
        assert "\n" not in mail.subject and "\r" not in mail.subject
    print("hostile input, embed and Isso:", dict(sorted(tally.items())))
