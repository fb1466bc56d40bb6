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
loaded = sorted(name for name in sys.modules if name == "wagtail" or name.startswith("wagtail."))
assert not loaded, f"Wagtail modules were imported: {loaded[:10]}"
print("discussion works without Wagtail")
