"""Helpers shared by the test packages: build pages the way an editor would."""

from __future__ import annotations

import io
import secrets
import string
import uuid
from datetime import datetime

from django.core.files.images import ImageFile
from django.utils import timezone
from wagtail.images import get_image_model
from wagtail.models import Page, PageViewRestriction, Site

from speakout.publishing.models import (
    Author,
    Category,
    HomePage,
    ReportAuthor,
    ReportIndexPage,
    ReportPage,
    StandardPage,
)


def make_image(title: str = "A picture", size=(640, 360), colour=(120, 30, 60)):
    from PIL import Image as PILImage

    buffer = io.BytesIO()
    PILImage.new("RGB", size, colour).save(buffer, format="PNG")
    buffer.seek(0)
    return get_image_model().objects.create(title=title, file=ImageFile(buffer, name=f"{uuid.uuid4().hex}.png"))


def paragraph(html: str) -> dict:
    return {"type": "paragraph", "value": html}


class SiteBuilder:
    def __init__(self) -> None:
        root = Page.get_first_root_node()
        if root is None:
            from django.contrib.contenttypes.models import ContentType

            ContentType.objects.clear_cache()  # the flush renumbered the content types
            # A transactional test flushed the database (Wagtail's locale, root page and default
            # site come from migrations, so the flush removed them): put them back.
            from django.conf import settings
            from wagtail.coreutils import get_supported_content_language_variant
            from wagtail.models import Locale

            Locale.objects.get_or_create(language_code=get_supported_content_language_variant(settings.LANGUAGE_CODE))
            from wagtail.models import Collection

            if Collection.get_first_root_node() is None:
                Collection.add_root(name="Root")
            root = Page.add_root(instance=Page(title="Root", slug="root", live=True))
        if not Site.objects.filter(is_default_site=True).exists():
            Site.objects.create(hostname="testserver", port=80, root_page=root, is_default_site=True)
        self.home = root.add_child(
            instance=HomePage(
                title="Test Collective", slug=f"home-{uuid.uuid4().hex[:6]}", mission="<p>Our mission.</p>"
            )
        )
        site = Site.objects.get(is_default_site=True)
        site.root_page = self.home
        site.site_name = "Test Collective"
        site.hostname = "testserver"
        site.port = 80
        site.save()
        Site.clear_site_root_paths_cache()
        self.index = self.home.add_child(instance=ReportIndexPage(title="Reports", slug="reports"))

    def category(self, name: str) -> Category:
        return Category.objects.get_or_create(slug=name.lower().replace(" ", "-"), defaults={"name": name})[0]

    def author(self, name: str) -> Author:
        return Author.objects.get_or_create(slug=name.lower().replace(" ", "-"), defaults={"name": name})[0]

    def report(
        self,
        title: str,
        *,
        date: datetime | None = None,
        body: list | None = None,
        standfirst: str = "",
        categories=(),
        tags=(),
        authors=(),
        notes=(),
        live: bool = True,
        private: bool = False,
    ) -> ReportPage:
        report = ReportPage(
            title=title,
            slug=f"r-{uuid.uuid4().hex[:8]}",
            date=date or timezone.now(),
            standfirst=standfirst,
            body=body or [paragraph(f"<p>Body of {title}.</p>")],
            notes=[{"type": "note", "value": {"text": text}} for text in notes],
            live=live,
        )
        report.categories = list(categories)
        report.report_authors = [ReportAuthor(author=a, sort_order=i) for i, a in enumerate(authors)]
        self.index.add_child(instance=report)
        if tags:
            report.tags.add(*tags)
            report.save()
        if live:
            report.save_revision().publish()
        else:
            report.save_revision()
        if private:
            PageViewRestriction.objects.create(
                page=report, restriction_type=PageViewRestriction.PASSWORD, password="secret"
            )
        return report

    def translate(self, page: Page, language: str, *, title: str, live: bool = True, **fields) -> Page:
        """The editor's "Translate" (Wagtail's copy for translation) into ``language``, then the
        translated words, published. The page's parent must have been translated first."""
        from wagtail.actions.copy_for_translation import CopyPageForTranslationAction
        from wagtail.models import Locale

        locale = Locale.objects.get_or_create(language_code=language)[0]
        copy = CopyPageForTranslationAction(page=page.specific, locale=locale).execute(skip_permission_checks=True)
        copy = copy.specific
        copy.title = title
        for name, value in fields.items():
            setattr(copy, name, value)
        copy.save()
        if live:
            copy.save_revision().publish()
        else:
            copy.save_revision()
        return type(copy).objects.get(pk=copy.pk)

    def standard_page(self, title: str, *, intro: str = "", live: bool = True) -> StandardPage:
        page = self.home.add_child(
            instance=StandardPage(
                title=title, slug=f"p-{uuid.uuid4().hex[:8]}", intro=intro, live=live, show_in_menus=True
            )
        )
        if live:
            page.save_revision().publish()
        return page


def word_marker(length: int = 8) -> str:
    """A random word that finds a test's text again. Letters only: a run of digits in a random
    hex string looks like a phone number to the personal-data guard often enough (about one
    10-character string in fifty) to hold a test's reply for "Post anyway" now and then."""
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(length))
