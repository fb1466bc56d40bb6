"""Run by tests/discussion/test_without_wagtail.py in a fresh interpreter."""

import os
import sys
import time

os.environ["DJANGO_SETTINGS_MODULE"] = "tests.projects.discussion_only.settings"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

call_command("migrate", verbosity=0)

from speakout.discussion.forms import issue_form_token  # noqa: E402
from speakout.discussion.models import DiscussionSettings, Reply  # noqa: E402

rules = DiscussionSettings.load()
rules.hold_first_reply = False
rules.save()
client = Client()
page = client.get("/article/")
assert page.status_code == 200, page.status_code
assert "Leave a Reply" in page.content.decode()
response = client.post(
    "/discussion/post/",
    {
        "thread": "article-1",
        "name": "Sam",
        "email": "sam@example.org",
        "body": "Works *anywhere*.",
        "form_token": issue_form_token("article-1", issued_at=time.time() - 10),
    },
)
assert response.status_code == 303, response.content.decode()[:2000]
assert Reply.objects.get().body_html == "<p>Works <em>anywhere</em>.</p>"
assert "Works <em>anywhere</em>." in client.get("/article/").content.decode()

# The embed app stands alone too: a page on an allowed site starts a thread with its first reply.
import json  # noqa: E402

from speakout.discussion.models import Thread  # noqa: E402

assert client.get("/embed.js").status_code == 200
embedded = Client(HTTP_ORIGIN="https://static.example.org", REMOTE_ADDR="10.9.8.7")
response = embedded.post(
    "/embed/api/replies?key=/notes/",
    json.dumps(
        {
            "name": "Ari",
            "email": "ari@example.org",  # another client and address: no rate limit
            "body": "From a static site.",
            "form_token": issue_form_token("/notes/", issued_at=time.time() - 10),
            "url": "https://static.example.org/notes/",
        }
    ),
    content_type="application/json",
)
assert response.status_code == 201, response.content.decode()[:2000]
assert Thread.objects.get(key="/notes/").url == "https://static.example.org/notes/"
assert embedded.post("/isso/count", '["/notes/"]', content_type="application/json").json() == [1]
# A key with "/" in it renders the whole discussion block, and its feed link works.
import re  # noqa: E402

page = client.get("/notes/")
assert page.status_code == 200, page.status_code
feed_link = re.search(r'<a href="([^"]+)">Follow these replies', page.content.decode()).group(1)
assert feed_link == "/discussion/thread/feed/rss/?key=%2Fnotes%2F", feed_link
feed = client.get(feed_link.replace("&amp;", "&"))
assert feed.status_code == 200 and "From a static site." in feed.content.decode(), feed.status_code
assert "/discussion/thread/feed/rss/?key=%2Fnotes%2F" in feed.content.decode(), "its own address"
# The moderation domain works without the admin or the safety app: queues, search, actions.
from speakout.discussion import moderation  # noqa: E402

held = Reply.objects.get(body="From a static site.")
held = moderation.perform(moderation.ACTIONS["spam"], held)
assert moderation.queue_counts()["spam"] == 1, moderation.queue_counts()
found = moderation.search_replies(moderation.QUEUES["spam"].queryset(), "static", include_email=False)
assert [row.text for row in moderation.reply_rows(moderation.with_row_relations(found))] == ["From a static site."]
assert moderation.perform(moderation.ACTIONS["delete"], held) is None
assert not Reply.objects.filter(pk=held.pk).exists()
print("moderation works without Wagtail")

loaded = sorted(name for name in sys.modules if name == "wagtail" or name.startswith("wagtail."))
assert not loaded, f"Wagtail modules were imported: {loaded[:10]}"
print("discussion works without Wagtail")
print("embed works without Wagtail")
