"""Every interface language in Chromium: the report page, the reply form with an error, a mail and
the embed widget, each saved as a screenshot under test-artifacts/ and checked with axe-core; in
Arabic, the layout reads right to left (labels at the right of their fields, nested replies
indented from the right).

A browser's language (Playwright's ``locale``) is what it asks for in Accept-Language.
"""

from __future__ import annotations

import time
import uuid

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import translation

from tests.browser.helpers import REPORT, StaticSite, allow, fill_guest_form, wait_out_the_time_trap

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("server")]

TOLERANCE = 2  # px: sub-pixel rounding

# (browser locale, the site's language code, direction, words that must be on the report page)
LANGUAGES = [
    ("en-GB", "en", "ltr", "Leave a Reply"),
    ("es-ES", "es", "ltr", "Deja una respuesta"),
    ("fr-FR", "fr", "ltr", "Laisser une réponse"),
    ("pt-BR", "pt-br", "ltr", "Deixe uma resposta"),
    ("ar-EG", "ar", "rtl", "اترك ردًّا"),
]
IDS = [code for _locale, code, _direction, _words in LANGUAGES]


# A mail is one message, not a site: the page-structure best practices (landmarks, a level-one
# heading) do not apply to it, the WCAG rules do.
WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}}


def assert_accessible(page, what: str, options: dict | None = None) -> None:
    results = Axe().run(page, options={"resultTypes": ["violations"], **(options or {})})
    assert results.violations_count == 0, f"axe-core on {what}:\n{results.generate_report()}"


def assert_document_language(page, code: str, direction: str) -> None:
    html = page.locator("html")
    assert (html.get_attribute("lang"), html.get_attribute("dir")) == (code, direction)


def box(locator) -> dict:
    found = locator.bounding_box()
    assert found is not None, f"{locator} is not rendered"
    return found


def text_box(locator) -> dict:
    """Where an element's text is drawn (a block label is as wide as its form; its words are not)."""
    return locator.evaluate(
        """(node) => {
            const range = document.createRange();
            range.selectNodeContents(node);
            const r = range.getBoundingClientRect();
            return {x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: r.height};
        }"""
    )


def right_edge(found: dict) -> float:
    return found["x"] + found["width"]


def assert_label_at_start_of(label, control, direction: str) -> None:
    """A label's words begin where its field begins: at the left in English, at the right in Arabic."""
    words, field = text_box(label), box(control)
    if direction == "rtl":
        assert right_edge(words) >= right_edge(field) - TOLERANCE, f"label {words} left of its field's start {field}"
        assert words["x"] > field["x"] + TOLERANCE, f"label {words} does not sit at the right of {field}"
    else:
        assert words["x"] <= field["x"] + TOLERANCE, f"label {words} right of its field's start {field}"


@pytest.mark.parametrize("locale, code, direction, words", LANGUAGES, ids=IDS)
def test_report_page_reads_in_each_language(new_context, artifact_path, locale, code, direction, words):
    page = new_context(locale=locale).new_page()
    page.goto(REPORT)

    assert_document_language(page, code, direction)
    assert words in page.locator("#respond").inner_text()
    nested = page.locator("ol.replies--nested").first
    nested.wait_for()
    item = nested.locator("xpath=..")  # the reply it answers, with its own answers inside
    inner, outer = box(nested), box(item)
    borders = nested.evaluate(
        "(node) => [getComputedStyle(node).borderLeftWidth, getComputedStyle(node).borderRightWidth]"
    )
    if direction == "rtl":
        assert right_edge(inner) < right_edge(outer) - 4, f"nested replies {inner} not indented from the right {outer}"
        assert abs(inner["x"] - outer["x"]) <= TOLERANCE, "nested replies reach the left edge"
        assert borders == ["0px", "2px"], "the threading line is on the right"
    else:
        assert inner["x"] > outer["x"] + 4, f"nested replies {inner} not indented from the left {outer}"
        assert borders == ["2px", "0px"], "the threading line is on the left"
    for body in page.locator(".reply__body").all()[:3]:
        assert body.get_attribute("dir") == "auto", "a reply reads in its own direction"
    item.screenshot(path=artifact_path(f"language-thread-{code}"))
    page.screenshot(path=artifact_path(f"language-report-{code}"), full_page=True)
    assert_accessible(page, f"the report page in {code}")


@pytest.mark.parametrize("locale, code, direction, words", LANGUAGES, ids=IDS)
def test_reply_form_error_in_each_language(new_context, speakout_server, artifact_path, locale, code, direction, words):
    page = new_context(locale=locale).new_page()
    page.goto(REPORT)
    opened = time.monotonic()
    # The browser takes this address; the server does not (no dot in the domain).
    fill_guest_form(page, "Kit", "kit@example", "Palabras, mots, palavras, كلمات.")
    wait_out_the_time_trap(opened)
    page.click("#respond button[type=submit]")

    error = page.locator("[data-field=email] .field__error")
    error.wait_for()
    message = error.inner_text()
    assert message and (code == "en") == ("valid email" in message), f"{code}: {message!r}"
    assert page.input_value("#respond textarea[name=body]") == "Palabras, mots, palavras, كلمات."
    assert_document_language(page, code, direction)
    for field in ("name", "email"):
        label, control = (
            page.locator(f"#respond [data-field={field}] label"),
            page.locator(f"#respond input[name={field}]"),
        )
        assert_label_at_start_of(label, control, direction)
    assert_label_at_start_of(
        error, page.locator("#respond input[name=email]"), direction
    )  # the error reads from there too
    page.locator("#respond").screenshot(path=artifact_path(f"language-reply-error-{code}"))
    assert_accessible(page, f"the reply form with an error in {code}")


@pytest.mark.parametrize("locale, code, direction, words", LANGUAGES, ids=IDS)
def test_mail_comes_in_the_readers_language(db, new_context, artifact_path, locale, code, direction, words):
    """A reader asks to follow a discussion while reading the site in their language (as the
    follow form's view does, with the request's language active): the mail is in it."""
    from speakout.discussion.services import get_or_create_thread
    from speakout.outbox.models import OutgoingMail
    from speakout.subscriptions.models import Subscription
    from speakout.subscriptions.services import request_subscription

    thread = get_or_create_thread(f"mail-{code}", url=f"http://testserver/reports/{code}/", title="Peer safety")
    address = f"follow-{code}-{uuid.uuid4().hex[:8]}@example.org"
    with translation.override(code):
        request_subscription(address, kind=Subscription.Kind.THREAD, thread=thread)
    mail = OutgoingMail.objects.get(to=address)

    assert mail.language == code
    page = new_context(locale=locale).new_page()  # axe-core needs scripts; the mail has none
    page.set_content(mail.html_body)
    assert_document_language(page, code, direction)
    if code != "en":
        assert "Someone (probably you)" not in page.inner_text("body"), "the mail is not in English"
    assert page.title(), "the mail has a title"
    page.screenshot(path=artifact_path(f"language-mail-{code}"), full_page=True)
    assert_accessible(page, f"the confirmation mail in {code}", WCAG)


@pytest.fixture(scope="module")
def host_site(speakout_server, tmp_path_factory):
    site = StaticSite(tmp_path_factory.mktemp("language-site"))
    allow(speakout_server, site.origin)
    yield site
    site.stop()


@pytest.mark.parametrize("locale, code, direction, words", LANGUAGES, ids=IDS)
def test_embed_widget_in_each_language(
    new_context, speakout_server, host_site, artifact_path, locale, code, direction, words
):
    key = f"/posts/{code}-{uuid.uuid4().hex[:8]}/"
    url = host_site.write(
        f"{code}-{uuid.uuid4().hex[:8]}.html",
        f"""<!DOCTYPE html><html lang="{locale}"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>{code}</title></head><body><main><h1>{code}</h1>
<div data-speakout-thread data-speakout-key="{key}" data-speakout-url="{host_site.origin}{key}"></div></main>
<script src="{speakout_server.base_url}/embed.js" defer></script></body></html>""",
    )
    page = new_context(locale="en-GB").new_page()  # the page's lang, not the browser's, decides
    page.goto(url)

    widget = page.locator("[data-speakout-thread] .so")
    widget.locator(".so-form").wait_for()
    assert (widget.get_attribute("lang"), widget.get_attribute("dir")) == (code, direction)
    assert words in widget.inner_text()
    assert_label_at_start_of(widget.locator("[data-field=name] label"), widget.locator("input[name=name]"), direction)
    page.locator("[data-speakout-thread]").screenshot(path=artifact_path(f"language-widget-{code}"))
    assert_accessible(page, f"the embed widget in {code}")


# The demo's one translated report (speakout/publishing/demo.py).
EVICTIONS = "/reports/evictions-after-licensing-rules/"
EVICTIONS_FR = "/fr/rapports/nulle-part-ou-aller/"


def hreflangs(page) -> dict[str, str]:
    """The page's hreflang alternates: language → the address's path."""
    found = page.eval_on_selector_all(
        "head link[rel=alternate][hreflang]:not([type])",
        "(links) => links.map((link) => [link.hreflang, new URL(link.href).pathname])",
    )
    return dict(found)


def test_switcher_offers_the_translations_of_the_page(new_context, artifact_path):
    """A reader of the English report finds its French version (footer link and hreflang), reads
    it in French whatever their browser asks for, and the switcher takes them back; choosing a
    language the report has no version in leads to the English text in that interface language."""
    page = new_context(locale="en-GB").new_page()
    page.goto(EVICTIONS)
    assert hreflangs(page) == {"en": EVICTIONS, "fr": EVICTIONS_FR, "x-default": EVICTIONS}
    versions = page.get_by_role("navigation", name="This page in other languages")
    assert versions.get_by_role("link", name="English").get_attribute("aria-current") == "page"

    versions.get_by_role("link", name="français").click()
    page.wait_for_url(f"**{EVICTIONS_FR}")
    assert_document_language(page, "fr", "ltr")
    assert "Nulle part où aller" in page.locator("h1").inner_text()
    assert "Laisser une réponse" in page.locator("#respond").inner_text()
    assert hreflangs(page) == {"en": EVICTIONS, "fr": EVICTIONS_FR, "x-default": EVICTIONS}
    page.screenshot(path=artifact_path("language-translation-fr"), full_page=True)
    assert_accessible(page, "the French translation of a report")

    # The switcher on the French page: English is the report's other version.
    page.select_option("#language-select", "en")
    page.get_by_role("button", name="Changer de langue").click()
    page.wait_for_url(f"**{EVICTIONS}")
    assert_document_language(page, "en", "ltr")
    assert "Nowhere to Go" in page.locator("h1").inner_text()

    # Back to French through the switcher, then Arabic, which the report is not written in.
    page.select_option("#language-select", "fr")
    page.get_by_role("button", name="Change language").click()
    page.wait_for_url(f"**{EVICTIONS_FR}")
    page.select_option("#language-select", "ar")
    page.locator(".language-switcher button[type=submit]").click()
    page.wait_for_url(f"**{EVICTIONS}")
    assert_document_language(page, "ar", "rtl")
    assert "Nowhere to Go" in page.locator("h1").inner_text()


def test_search_and_feeds_per_language(new_context):
    """The header's search box on the French report searches French pages; the French feed
    lists the French report only."""
    page = new_context(locale="en-GB").new_page()
    page.goto(EVICTIONS_FR)
    page.fill("#site-search-q", "expulsions")
    page.locator(".site-search button[type=submit]").click()
    page.wait_for_url("**/search/?**")
    results = page.locator(".search-results")
    assert results.get_by_role("link").all_inner_texts() == [
        "Nulle part où aller\u00a0: les expulsions depuis les nouvelles règles de licence"
    ]
    assert page.locator("#search-page-lang").input_value() == "fr"
    feed = page.request.get("/fr/rapports/feed/atom/")
    assert feed.ok and "Nulle part où aller" in feed.text() and "Nowhere to Go" not in feed.text()
