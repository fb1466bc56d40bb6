"""The demo loaded on a fresh database gives exactly the content in demo_snapshot.json: every
page's fields and body blocks, the people, pictures, categories, and every reply's name, email,
text, place in the tree, time, status and reason, and the reader's report.

The snapshot was taken from the demo as written in Python before its words moved to data files
(speakout/publishing/demo_content/); it changes only when the demo's content is meant to change.
"""

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import models
from django.utils import timezone
from wagtail.fields import StreamField
from wagtail.images import get_image_model
from wagtail.models import Page, Site

from speakout.discussion.models import Flag, Reply, Thread
from speakout.publishing.demo import load_demo_content
from speakout.publishing.demo_discussion import TIME_SCALE_HOURS
from speakout.publishing.models import Author, Category, ReportPage

pytestmark = pytest.mark.django_db

SNAPSHOT = Path(__file__).with_name("demo_snapshot.json")
# Fields that are random, or set by Wagtail at publication time, rather than written by the demo.
VOLATILE = {"translation_key", "thread_key", "draft_title", "url_path", "latest_revision_created_at"}


def _file_name(name: str) -> str:
    """The picture's file name without the suffix storage adds when the name is taken."""
    return re.sub(r"_[A-Za-z0-9]{7}(?=\.\w+$)", "", Path(name).name)


def _stream(value, images: dict) -> list:
    """A StreamField's stored blocks without their random ids, pictures named by title."""
    blocks = []
    for block in value.raw_data:
        data = {"type": block["type"], "value": block["value"]}
        if block["type"] == "image":
            data["value"] = {**block["value"], "image": images[block["value"]["image"]]}
        blocks.append(data)
    return blocks


def _page(page: Page, images: dict, today) -> dict:
    page = page.specific
    data: dict = {"type": type(page).__name__, "locale": page.locale.language_code, "url": page.url}
    own = [field for field in type(page)._meta.concrete_fields if field.model is not Page]
    for field in [*Page._meta.concrete_fields, *own]:
        if field.name in VOLATILE or isinstance(field, (models.AutoField, models.OneToOneField)):
            continue
        value = getattr(page, field.attname)
        if isinstance(field, StreamField):
            value = _stream(value, images)
        elif field.name == "date":
            value = {"days_ago": (today - value.date()).days, "time": value.time().isoformat()}
        elif isinstance(field, models.DateTimeField) or field.name in {"path", "live_revision", "owner"}:
            continue
        elif field.name == "social_image":
            value = images.get(value)
        elif isinstance(field, models.ForeignKey):  # ids that differ between databases
            continue
        data[field.name] = value
    if isinstance(page, ReportPage):
        data["categories"] = [category.slug for category in page.categories.all()]
        data["tags"] = sorted(tag.name for tag in page.tags.all())
        data["authors"] = [item.author.slug for item in page.report_authors.order_by("sort_order")]
    return data


def demo_snapshot(loaded_at) -> dict:
    """What the demo created, in a form that does not depend on ids, random keys or the clock."""
    today = timezone.now().date()
    images = {image.pk: image.title for image in get_image_model().objects.all()}
    report = ReportPage.objects.get(slug="peer-safety-conference-lisbon")
    thread = Thread.objects.get(key=report.thread_key)
    start = report.first_published_at
    scale = min(1.0, (loaded_at - start) / timedelta(hours=TIME_SCALE_HOURS))
    replies = list(Reply.objects.filter(thread=thread).select_related("commenter").order_by("path"))
    position = {reply.pk: index for index, reply in enumerate(replies)}
    return {
        "site_name": Site.objects.get(is_default_site=True).site_name,
        "images": [
            {"title": image.title, "file": _file_name(image.file.name), "size": [image.width, image.height]}
            for image in get_image_model().objects.order_by("pk")
        ],
        "categories": list(Category.objects.order_by("pk").values("name", "slug", "description")),
        "authors": list(Author.objects.order_by("pk").values("name", "slug", "bio")),
        "pages": [_page(page, images, today) for page in Page.objects.order_by("path") if page.depth > 1],
        "replies": [
            {
                "parent": position.get(reply.parent_id),
                "depth": reply.depth,
                "name": reply.author_name,
                "email": reply.commenter.email if reply.commenter else "",
                "website": reply.author_website,
                "body": reply.body,
                "body_html": reply.body_html,
                "status": reply.status,
                "reason": reply.moderation_reason,
                "hours": round((reply.created_at - start) / timedelta(hours=1) / scale, 2),
            }
            for reply in replies
        ],
        "flags": [
            {"reply": position[flag.reply_id], "reason": flag.reason, "note": flag.note, "open": not flag.resolved_at}
            for flag in Flag.objects.filter(reply__thread=thread).order_by("pk")
        ],
    }


@pytest.fixture(params=["noon", "last moment of the day"])
def stopped_clock(request, monkeypatch):
    """The clock stopped at one instant of today (UTC) while the demo loads and is read back: the
    demo's "N days ago" dates and the snapshot's count from the same day, whenever the test runs."""
    noon = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    instant = noon if request.param == "noon" else noon + timedelta(hours=12, microseconds=-1)
    monkeypatch.setattr(timezone, "now", lambda: instant)
    return instant


def test_demo_content_matches_the_snapshot(stopped_clock):
    assert load_demo_content() is True
    snapshot = json.loads(json.dumps(demo_snapshot(timezone.now()), default=str))
    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert snapshot["site_name"] == expected["site_name"]
    assert snapshot["images"] == expected["images"]
    assert snapshot["categories"] == expected["categories"]
    assert snapshot["authors"] == expected["authors"]
    assert [page["title"] for page in snapshot["pages"]] == [page["title"] for page in expected["pages"]]
    for page, wanted in zip(snapshot["pages"], expected["pages"], strict=True):
        assert page == wanted, page["title"]
    assert len(snapshot["replies"]) == len(expected["replies"])
    for reply, wanted in zip(snapshot["replies"], expected["replies"], strict=True):
        assert reply == wanted
    assert snapshot["flags"] == expected["flags"]
    assert snapshot == expected
