"""Pages in several languages: where a translation lives and how readers find the others.

Wagtail keeps one page tree per locale. The default language's pages answer at unprefixed
addresses (``/reports/a-report/``), every other language's under its code
(``/fr/reports/un-rapport/``), so the address alone says which text a page holds: the page
cache, which serves the same bytes to everyone per address, never mixes languages, and the
interface language of unprefixed pages stays the reader's own choice (see docs/languages.md).

Django's ``i18n_patterns`` would do the prefixing, but it also takes the default language's
pages away from the reader's choice (an unprefixed address would always read in the default
language); ``ContentLanguagePrefix`` prefixes only Wagtail's page view and only for the other
languages.
"""

from __future__ import annotations

import re

from django.utils import translation

from speakout.theme.languages import content_language_of, content_prefixes


class ContentLanguagePrefix:
    """A URL pattern prefix for Wagtail's page view: ``fr/`` and the like, none for the default
    language. Matching leaves the prefix to the view (``content_language_of``); reversing
    (Wagtail's ``Page.url`` reverses under its page's language) writes the prefix back."""

    converters: dict = {}

    @property
    def regex(self):
        # Used only by reverse(), whose table Django keeps per active language.
        language = translation.get_language()
        prefix = f"{language}/" if language in content_prefixes() else ""
        return re.compile(re.escape(prefix))

    def match(self, path: str):
        # The view reads the language from the address itself (routing.serve), so that the
        # match has the page path as its only argument, as Django's translate_url expects.
        language = content_language_of("/" + path)
        return (path.removeprefix(f"{language}/") if language else path), (), {}

    def check(self):
        return []

    def describe(self) -> str:
        return "'<language>/'"

    def __str__(self) -> str:
        return "<language>/"
