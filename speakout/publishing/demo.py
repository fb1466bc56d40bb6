"""Demo content: a made-up collective, its reports and pages, all written for Speakout.

``load_demo_content()`` goes only into an empty site (a fresh install: no page but Wagtail's
placeholder, no reply), so ``make run`` can call it on every start without duplicating anything
or touching real content; it never replaces or deletes a page.
The words are in ``demo_content/site.toml``; this module only builds the pages from them.
Pictures are drawn here with Pillow, so the demo needs no downloaded file.
"""

from __future__ import annotations

import io
import tomllib
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from django.core.files.images import ImageFile
from django.db import transaction
from django.utils import timezone
from wagtail.images import get_image_model
from wagtail.models import Site

from speakout.contact.models import ContactPage

from .demo_discussion import load_demo_discussion
from .home import content_summary, home_page
from .models import Author, Category, HomePage, ReportAuthor, ReportIndexPage, ReportPage, StandardPage

SITE = tomllib.loads((Path(__file__).parent / "demo_content" / "site.toml").read_text(encoding="utf-8"))
ORGANISATION = SITE["organisation"]
MISSION = SITE["mission"]


def _draw_picture(seed: int) -> ImageFile:
    """An abstract picture (overlapping discs on a tinted ground), different for each seed."""
    from PIL import Image, ImageDraw

    palettes = [
        ((122, 31, 61), (240, 180, 90), (250, 240, 228)),
        ((30, 80, 110), (120, 190, 170), (238, 243, 240)),
        ((70, 50, 110), (230, 120, 110), (246, 238, 246)),
        ((40, 90, 60), (220, 200, 80), (242, 244, 232)),
    ]
    dark, bright, ground = palettes[seed % len(palettes)]
    picture = Image.new("RGB", (1600, 900), ground)
    draw = ImageDraw.Draw(picture, "RGBA")
    for step in range(9):
        radius = 140 + (seed * 37 + step * 53) % 220
        x = (seed * 211 + step * 173) % 1600
        y = (seed * 97 + step * 131) % 900
        colour = dark if step % 2 else bright
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=(*colour, 150))
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=82)
    buffer.seek(0)
    return ImageFile(buffer, name=f"demo-{seed}.jpg")


def _image(seed: int, title: str):
    Image = get_image_model()
    return Image.objects.create(title=title, file=_draw_picture(seed))


def _block(kind: str, value) -> dict:
    return {"type": kind, "value": value, "id": str(uuid.uuid4())}


def _blocks(blocks: list[dict], images: dict) -> list[dict]:
    """StreamField blocks from the data file: a paragraph's value is its HTML, a picture names its image."""
    result = []
    for block in blocks:
        value = {name: field for name, field in block.items() if name != "type"}
        if block["type"] == "paragraph":
            value = value["html"]
        elif block["type"] == "image":
            value["image"] = images[value["image"]].pk
        result.append(_block(block["type"], value))
    return result


def _notes(texts: list[str]) -> list[dict]:
    return [_block("note", {"text": text}) for text in texts]


def _at(days_ago: int, hour: int = 9) -> datetime:
    moment = timezone.now() - timedelta(days=days_ago)
    return moment.replace(hour=hour, minute=0, second=0, microsecond=0)


def demo_skip_reason() -> str:
    """Why the demo would not be loaded now ("" when it would): it goes into an empty site only."""
    summary = content_summary()
    if not any(summary.values()):
        return ""
    if HomePage.objects.filter(title=ORGANISATION).exists():
        return "the demo content is already there"
    return (
        f"the site already has content ({summary['pages']} pages, {summary['replies']} replies), "
        "and the demo goes only into an empty site"
    )


@transaction.atomic
def load_demo_content() -> bool:
    """Create the demo site. Returns False, and changes nothing, unless the site is empty (see
    ``demo_skip_reason``): the demo never replaces or deletes a page."""
    if demo_skip_reason():
        return False

    home = home_page(ORGANISATION)
    home.title = ORGANISATION
    home.mission = MISSION
    home.search_description = SITE["search_description"]
    home.save()
    home.save_revision().publish()
    site = Site.objects.get(is_default_site=True)
    site.site_name = ORGANISATION
    site.save(update_fields=["site_name"])

    reports = home.add_child(instance=ReportIndexPage(show_in_menus=True, **SITE["reports_index"]))
    reports.save_revision().publish()

    categories = {fields["slug"]: Category.objects.create(**fields) for fields in SITE["categories"]}
    authors = {fields["slug"]: Author.objects.create(**fields) for fields in SITE["authors"]}
    images = {picture["key"]: _image(picture["seed"], picture["title"]) for picture in SITE["images"]}

    translated = None
    for fields in SITE["reports"]:
        date = _at(fields["days_ago"])
        report = ReportPage(
            title=fields["title"],
            slug=fields["slug"],
            date=date,
            standfirst=fields["standfirst"],
            body=_blocks(fields["body"], images),
            notes=_notes(fields["notes"]),
            search_description=fields["standfirst"],
            social_image=images[fields["image"]],
            social_image_alt="",
            first_published_at=date,
        )
        report.categories = [categories[slug] for slug in fields["categories"]]
        report.report_authors = [
            ReportAuthor(author=authors[slug], sort_order=i) for i, slug in enumerate(fields["authors"])
        ]
        reports.add_child(instance=report)
        report.tags.add(*fields["tags"])
        report.save()
        report.save_revision().publish()
        if fields.get("discussion"):
            load_demo_discussion(report)
        if fields.get("translated"):
            translated = report

    for fields in SITE["pages"]:
        fields = dict(fields)
        if fields.pop("type") == "contact":
            page = ContactPage(show_in_menus=True, **fields)
        else:
            page = StandardPage(show_in_menus=True, **{**fields, "body": _blocks(fields["body"], images)})
        home.add_child(instance=page).save_revision().publish()

    _translate_into_french(home, reports, translated, images)
    return True


def _translated(page, locale, **fields):
    """Wagtail's "Translate" (a copy in the other locale), with the translated words, published."""
    from wagtail.actions.copy_for_translation import CopyPageForTranslationAction

    copy = CopyPageForTranslationAction(page=page, locale=locale).execute(skip_permission_checks=True).specific
    for name, value in fields.items():
        setattr(copy, name, value)
    copy.save()
    copy.save_revision().publish()
    return copy


def _translate_into_french(home, reports, report, images):
    """One report in French, with the home page and the reports index it needs, so the
    language switcher has a translation to offer (docs/languages.md)."""
    from wagtail.models import Locale

    french = Locale.objects.get_or_create(language_code="fr")[0]
    words = SITE["french"]
    _translated(home, french, **words["home"])
    _translated(reports, french, **words["reports_index"])
    fields = words["report"]
    _translated(
        report,
        french,
        title=fields["title"],
        slug=fields["slug"],
        standfirst=fields["standfirst"],
        search_description=fields["standfirst"],
        body=_blocks(fields["body"], images),
        notes=_notes(fields["notes"]),
    )
