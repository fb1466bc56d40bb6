"""The public site in a real browser: what a reader sees, loads and can reach by keyboard."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.xdist_group("server")]

# Load every lazy picture now and wait for each to finish (or fail), so the crawl sees them all.
LOAD_ALL_IMAGES = """async () => {
  const images = Array.from(document.images);
  images.forEach((img) => { img.loading = "eager"; });
  await Promise.all(images.map((img) => img.complete ? null : new Promise((done) => {
    img.addEventListener("load", done, { once: true });
    img.addEventListener("error", done, { once: true });
  })));
  return images.length;
}"""


def relative_luminance(css_colour: str) -> float:
    channels = [int(value) / 255 for value in re.findall(r"\d+", css_colour)[:3]]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_home_page_and_a_report(browser_page, speakout_server, page_problems, artifact_path):
    page = browser_page
    problems = page_problems(page, speakout_server.origin)
    problems.current = "/"
    page.goto("/")
    expect(page.locator("h1")).to_have_text("Harbour Lane Collective")

    first_report = page.locator(".report-card__title a").first
    title = first_report.inner_text().strip()
    assert title
    problems.current = "first report"
    first_report.click()
    page.wait_for_load_state("load")
    assert urlsplit(page.url).path.startswith("/reports/")
    expect(page.locator("article h1")).to_have_text(title)

    # Reply avatars are decorative (alt=""); the report's own pictures must describe themselves.
    images = page.locator("article img:not(.reply__avatar)")
    assert images.count() > 0, "the demo reports all have a picture"
    avatars = page.locator("img.reply__avatar")
    assert avatars.count() > 0, "the demo discussion shows avatars"
    for index in range(avatars.count()):
        avatar = avatars.nth(index)
        avatar.scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=avatar.element_handle())
    for index in range(images.count()):
        image = images.nth(index)
        image.scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
        alt = image.get_attribute("alt")
        assert alt and alt.strip(), f"picture {index + 1} has no alt text"
    expect(page.locator("article figcaption").first).to_be_visible()

    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=artifact_path("report-page"), full_page=True)
    assert not problems.problems, "\n".join(problems.problems)


def _sitemap_paths(server) -> list[str]:
    status, _, body = server.get("/sitemap.xml")
    assert status == 200
    paths = []
    for location in re.findall(r"<loc>\s*([^<\s]+)\s*</loc>", body.decode()):
        parts = urlsplit(location)
        assert f"{parts.scheme}://{parts.netloc}" == server.origin, location
        paths.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    assert len(paths) >= 5, paths
    return paths


def test_every_public_page_loads_only_from_its_own_origin(browser_page, speakout_server, page_problems):
    page = browser_page
    problems = page_problems(page, speakout_server.origin)
    queue = [*_sitemap_paths(speakout_server), "/reports/", "/search/?q=report"]
    listing = re.compile(r"^/reports/(category|tag)/[-\w]+/$")
    seen: set[str] = set()
    kinds = {"category": 0, "tag": 0}
    while queue:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        problems.current = path
        response = page.goto(path, wait_until="load")
        status = response.status if response else None
        assert status == 200, f"{path} answered {status}"
        page.evaluate(LOAD_ALL_IMAGES)
        expect(page.locator("main")).to_be_visible()
        # Reach each category and tag listing from the links readers follow.
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
            parts = urlsplit(href)
            same_origin = f"{parts.scheme}://{parts.netloc}" == speakout_server.origin
            if same_origin and listing.match(parts.path):
                queue.append(parts.path)
        match = listing.match(urlsplit(page.url).path)
        if match:
            kinds[match.group(1)] += 1
    assert kinds["category"] >= 3 and kinds["tag"] >= 3, (kinds, sorted(seen))
    assert any(url.endswith(".css") for url in problems.requests)
    assert not problems.problems, "\n".join(problems.problems)


def test_first_tab_reaches_the_skip_link(browser_page):
    page = browser_page
    page.goto("/")
    page.keyboard.press("Tab")
    focused = page.locator(":focus")
    expect(focused).to_have_text("Skip to main content")
    expect(focused).to_have_attribute("href", "#main")
    box = focused.bounding_box()
    viewport = page.viewport_size
    assert box and box["width"] > 0 and box["height"] > 0
    assert 0 <= box["y"] and box["y"] + box["height"] <= viewport["height"], box
    assert 0 <= box["x"] and box["x"] + box["width"] <= viewport["width"], box
    # Nothing covers it: the topmost element at its centre is the link itself.
    on_top = page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y)?.closest('a')?.textContent?.trim()",
        [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
    )
    assert on_top == "Skip to main content"
    # Following it moves the focus into the main content.
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()


def test_dark_colour_scheme(new_context):
    dark = new_context(color_scheme="dark").new_page()
    dark.goto("/")
    background = dark.evaluate("getComputedStyle(document.body).backgroundColor")
    text = dark.evaluate("getComputedStyle(document.body).color")
    assert relative_luminance(background) < 0.05, background
    assert relative_luminance(text) > 0.7, text

    light = new_context(color_scheme="light").new_page()
    light.goto("/")
    background = light.evaluate("getComputedStyle(document.body).backgroundColor")
    assert relative_luminance(background) > 0.8, background


def test_spanish_reader_gets_spanish_page(new_context):
    page = new_context(locale="es-ES").new_page()
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "es")

    english = new_context(locale="en-GB").new_page()
    english.goto("/")
    expect(english.locator("html")).to_have_attribute("lang", "en")
