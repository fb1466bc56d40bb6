"""The versions of a page in other languages, for the language switcher and ``hreflang``.

Wagtail only (no model of ours), so the theme's templates and the switcher's view can use it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import translation
from wagtail.models import Locale, Page

from .languages import content_default, content_prefixes


@dataclass(frozen=True)
class Translation:
    language: str  # the locale's language code, as in hreflang
    name: str  # the language's own name for itself
    url: str  # relative when on the site being read
    full_url: str  # absolute, for hreflang
    current: bool


def translations(page: Page, request=None) -> list[Translation]:
    """Every live, public version of ``page`` (itself included), default language first; empty
    when the page has no other version a reader may see."""
    versions = [
        version
        for version in page.get_translations(inclusive=True).live().public().select_related("locale")
        if version.pk == page.pk or version.get_url(request) is not None
    ]
    if len(versions) < 2:
        return []
    order = {code: index for index, code in enumerate([content_default(), *content_prefixes()])}
    versions.sort(key=lambda version: order.get(version.locale.language_code, len(order)))
    return [
        Translation(
            language=version.locale.language_code,
            name=translation.get_language_info(version.locale.language_code)["name_local"],
            url=version.get_url(request),
            full_url=version.get_full_url(request),
            current=version.pk == page.pk,
        )
        for version in versions
    ]


def translation_in(page: Page, language: str) -> Page | None:
    """The live, public version of ``page`` in ``language``, if there is one."""
    return page.get_translations(inclusive=True).live().public().filter(locale__language_code=language).first()


def site_root_in(site, language: str | None) -> Page | None:
    """The site's home page in ``language`` (None: the default language's, else the site's
    root page, so that unprefixed addresses keep working whatever the root's locale)."""
    root = site.root_page
    code = language or content_default()
    if root.locale_id is not None and Locale.objects.filter(pk=root.locale_id, language_code=code).exists():
        return root
    locale = Locale.objects.filter(language_code=code).first()
    found = root.get_translation_or_none(locale) if locale is not None else None
    if found is None and language is None:
        return root
    return found
