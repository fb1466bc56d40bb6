"""Reading comfort of one report beside WordPress's Twenty Twenty-Three and Ghost's Casper.

The same report is read three ways in Chromium, at 1280 and 390 px:

- Speakout: the demo report served by the real ``speakout run`` (the shared browser server).
  Its title, standfirst, body paragraphs, first heading and quote are read from that page, and
  exactly that text is given to the other two.
- WordPress: Debian's WordPress 6.1 core with Debian's Twenty Twenty-Three theme
  (``wordpress-theme-twentytwentythree``), a throwaway MariaDB database, one post made with
  ``wp_insert_post`` (standfirst as its first paragraph, then the paragraphs, heading and quote as
  core blocks), served through WordPress's own front end by PHP's built-in web server on a
  loopback port (tests/wordpress/wordpress.php is the router).
- Casper: Ghost publishes Casper inside its ``ghost`` npm package (``content/themes/casper``).
  The set-up takes that package with ``npm pack`` (npm's cache makes repeats local) and serves
  Casper's own built stylesheet with a page written from the markup of its ``post.hbs`` inside
  ``default.hbs`` (``.article-header`` with ``.article-title`` and ``.article-excerpt``, then
  ``section.gh-content.gh-canvas``). Ghost itself is not run: only the theme's HTML structure and
  CSS decide how the body text reads, and the server would add nothing to that.

For the body paragraphs of each page the browser measures, from computed styles and layout:
characters per line (the column's width divided by the font's mean character width for that
text), font size, line height over font size, WCAG contrast of the text on the background
actually behind it, paragraph spacing (the larger of the paragraph's block margins, in em, which
is the gap between two paragraphs under margin collapsing), and horizontal scrolling at 390 px.

Comfort score: one point for each of these in its comfortable range, per width — characters per
line 45–80 at 1280 px and at least 30 at 390 px, font size at least 16 px, line height 1.4–1.8,
contrast at least 7:1 (WCAG AAA), paragraph spacing 0.75–2 em, no horizontal scroll — so 12 at
most. Speakout must score every point, and so at least as much as each of the others.
"""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

from tests.browser.helpers import REPORT, StaticSite
from tests.integration.server import HTTP, free_port
from tests.wordpress.site import CORE, HELPER, PHP, WordPress

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("server")]

WIDTHS = (1280, 390)
# Ghost's release that carries the Casper compared here (Casper 5.12.5).
GHOST = os.environ.get("SPEAKOUT_TEST_GHOST_PACKAGE", "ghost@6.65.0")
THEME = CORE / "wp-content" / "themes" / "twentytwentythree"

# Runs in the page: the same report's text, read from Speakout's page.
READ_REPORT = """() => {
    const body = document.querySelector('.report__body');
    const text = (node) => node.textContent.replace(/\\s+/g, ' ').trim();
    return {
        title: text(document.querySelector('#report-title')),
        standfirst: text(document.querySelector('.standfirst')),
        // Prose paragraphs of the body (not captions, quotes, list items or a link's description).
        paragraphs: [...body.querySelectorAll('p')].filter((p) => !p.closest('figure, blockquote, li'))
            .map(text).filter((words) => words.length >= 120),
        heading: text(body.querySelector('h2')),
        quote: text(body.querySelector('blockquote')),
        attribution: text(body.querySelector('figure.quote figcaption')).replace(/^— /, ''),
    };
}"""

# Runs in the page: comfort metrics of the paragraphs whose text starts like the report's.
MEASURE = """(starts) => {
    const rgb = (color) => {
        const canvas = document.createElement('canvas');
        canvas.width = canvas.height = 1;
        const context = canvas.getContext('2d');
        context.fillStyle = '#fff';
        context.fillRect(0, 0, 1, 1);
        context.fillStyle = color;
        context.fillRect(0, 0, 1, 1);
        return [...context.getImageData(0, 0, 1, 1).data.slice(0, 3)];
    };
    const luminance = ([r, g, b]) => {
        const channel = (c) => { c /= 255; return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
        return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    };
    const background = (node) => {
        for (let n = node; n; n = n.parentElement) {
            const color = getComputedStyle(n).backgroundColor;
            if (!/^rgba\\(.*, 0\\)$/.test(color) && color !== 'transparent') return color;
        }
        return '#fff';
    };
    const found = [...document.querySelectorAll('p')].filter((p) => {
        const text = p.textContent.replace(/\\s+/g, ' ').trim();
        return starts.some((start) => text.startsWith(start)) && !p.closest('blockquote');
    });
    const rows = found.map((p) => {
        const style = getComputedStyle(p);
        const size = parseFloat(style.fontSize);
        let lineHeight = parseFloat(style.lineHeight);
        if (Number.isNaN(lineHeight)) lineHeight = 1.2 * size;
        const probe = document.createElement('span');
        probe.style.whiteSpace = 'nowrap';
        probe.textContent = p.textContent.replace(/\\s+/g, ' ').trim();
        p.appendChild(probe);
        const perCharacter = probe.getBoundingClientRect().width / probe.textContent.length;
        probe.remove();
        const column = p.clientWidth - parseFloat(style.paddingInlineStart) - parseFloat(style.paddingInlineEnd);
        const [text, behind] = [luminance(rgb(style.color)), luminance(rgb(background(p)))];
        return {
            chars_per_line: column / perCharacter,
            font_size: size,
            line_height: lineHeight / size,
            contrast: (Math.max(text, behind) + 0.05) / (Math.min(text, behind) + 0.05),
            paragraph_spacing: Math.max(parseFloat(style.marginBlockStart), parseFloat(style.marginBlockEnd)) / size,
            follows: p.previousElementSibling !== null,
        };
    });
    const width = document.documentElement.clientWidth;
    const scroll = document.documentElement.scrollWidth > width;
    // What sticks out, for the failure message: elements whose box ends past the viewport.
    const outside = scroll ? [...document.body.querySelectorAll('*')]
        .filter((node) => node.getBoundingClientRect().right > width + 1)
        .slice(-5).map((node) => node.tagName.toLowerCase() + (node.className ? '.' + node.className : '')) : [];
    return {count: rows.length, rows, horizontal_scroll: scroll, outside};
}"""


def summarise(measured: dict) -> dict:
    """The worst paragraph on each metric (fewest characters per line on a narrow screen, the
    most on a wide one, smallest font, lowest contrast...)."""
    rows = measured["rows"]
    assert rows, "no body paragraph was found: the measurement would prove nothing"
    # A column's first paragraph often has its leading margin trimmed: spacing is read where one
    # paragraph follows something.
    spaced = [row["paragraph_spacing"] for row in rows if row["follows"]]
    assert spaced, "no paragraph follows another element"
    return {
        "paragraphs": len(rows),
        "chars_per_line_min": min(row["chars_per_line"] for row in rows),
        "chars_per_line_max": max(row["chars_per_line"] for row in rows),
        "font_size": min(row["font_size"] for row in rows),
        "line_height": min(row["line_height"] for row in rows),
        "line_height_max": max(row["line_height"] for row in rows),
        "contrast": min(row["contrast"] for row in rows),
        "paragraph_spacing": min(spaced),
        "paragraph_spacing_max": max(spaced),
        "horizontal_scroll": measured["horizontal_scroll"],
        "sticking_out": measured["outside"],
    }


def comfortable(summary: dict, width: int) -> dict[str, bool]:
    low, high = (45, 80) if width >= 1000 else (30, None)
    return {
        "chars_per_line": summary["chars_per_line_min"] >= low
        and (high is None or summary["chars_per_line_max"] <= high),
        "font_size": summary["font_size"] >= 16,
        "line_height": summary["line_height"] >= 1.4 and summary["line_height_max"] <= 1.8,
        "contrast": summary["contrast"] >= 7,
        "paragraph_spacing": summary["paragraph_spacing"] >= 0.75 and summary["paragraph_spacing_max"] <= 2.0,
        "no_horizontal_scroll": not summary["horizontal_scroll"],
    }


def wordpress_blocks(report: dict) -> str:
    def paragraph(text: str) -> str:
        return f"<!-- wp:paragraph -->\n<p>{text}</p>\n<!-- /wp:paragraph -->"

    body = [paragraph(report["standfirst"]), paragraph(report["paragraphs"][0])]
    body.append(f'<!-- wp:heading -->\n<h2 class="wp-block-heading">{report["heading"]}</h2>\n<!-- /wp:heading -->')
    body.append(paragraph(report["paragraphs"][1]))
    body.append(
        '<!-- wp:quote -->\n<blockquote class="wp-block-quote"><!-- wp:paragraph -->\n'
        f"<p>{report['quote']}</p>\n<!-- /wp:paragraph --><cite>{report['attribution']}</cite></blockquote>\n"
        "<!-- /wp:quote -->"
    )
    body.extend(paragraph(text) for text in report["paragraphs"][2:])
    return "\n\n".join(body)


def casper_page(report: dict) -> str:
    paragraphs = "".join(f"<p>{text}</p>" for text in report["paragraphs"][1:])
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{report["title"]}</title>
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" type="text/css" href="assets/built/screen.css"></head>
<body class="post-template is-head-stacked"><div class="viewport"><div class="site-content">
<main id="site-main" class="site-main"><article class="article post">
<header class="article-header gh-canvas"><h1 class="article-title">{report["title"]}</h1>
<p class="article-excerpt">{report["standfirst"]}</p></header>
<section class="gh-content gh-canvas"><p>{report["paragraphs"][0]}</p><h2>{report["heading"]}</h2>
<blockquote><p>{report["quote"]}</p></blockquote>{paragraphs}</section>
</article></main></div></div></body></html>"""


def casper_theme(folder: Path) -> Path:
    """Casper's files from Ghost's npm package (npm's cache keeps repeats off the network)."""
    result = subprocess.run(
        ["npm", "pack", GHOST, "--silent", "--pack-destination", str(folder)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"npm pack {GHOST}: {result.stderr}"
    archive = folder / result.stdout.strip().splitlines()[-1]
    prefix = "package/content/themes/casper/"
    with tarfile.open(archive) as tar:
        members = [member for member in tar.getmembers() if member.name.startswith(prefix)]
        assert members, f"{GHOST} carries no Casper theme"
        tar.extractall(folder / "ghost", members=members, filter="data")
    theme = folder / "ghost" / prefix
    assert (theme / "assets" / "built" / "screen.css").is_file(), "Casper's built stylesheet is missing"
    return theme


class WordPressServer:
    """PHP's built-in web server running WordPress (with Twenty Twenty-Three) on a loopback port."""

    def __init__(self, folder: Path):
        assert (THEME / "theme.json").is_file(), (
            f"Twenty Twenty-Three is missing from {THEME}: install Debian's "
            "wordpress-theme-twentytwentythree (.ci/run does)."
        )
        self.port = free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        self.site = WordPress(folder, url=self.origin)
        (folder / "wp-content" / "themes" / "twentytwentythree").symlink_to(THEME)
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.site.run("install")
        self.process = subprocess.Popen(
            [PHP, "-S", f"127.0.0.1:{self.port}", str(HELPER)],
            env=self.site.env,
            cwd=str(CORE),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                with HTTP.open(self.origin + "/wp-includes/css/dashicons.min.css", timeout=5):
                    return
            except OSError:
                assert time.monotonic() < deadline, "PHP's web server did not answer within 20 s"
                time.sleep(0.2)

    def article(self, report: dict, folder: Path) -> str:
        data = folder / "article.json"
        data.write_text(json.dumps({"title": report["title"], "content": wordpress_blocks(report)}))
        return f"{self.origin}/?p={self.site.run('article', str(data))['id']}"

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.site.drop()


@pytest.fixture(scope="module")
def three_pages(chromium, speakout_server, tmp_path_factory):
    """name -> URL of the same report: Speakout, WordPress (Twenty Twenty-Three), Casper."""
    folder = tmp_path_factory.mktemp("reading-comfort")
    context = chromium.new_context(base_url=speakout_server.base_url)
    page = context.new_page()
    page.goto(REPORT)
    report = page.evaluate(READ_REPORT)
    context.close()
    assert report["title"] and report["standfirst"] and report["heading"] and report["quote"], report
    assert len(report["paragraphs"]) >= 3, report

    casper = StaticSite(casper_theme(folder))
    wordpress = WordPressServer(folder / "wordpress")
    try:
        casper_url = casper.write("report.html", casper_page(report))
        wordpress.start()
        wordpress_url = wordpress.article(report, folder)
        yield report, {"speakout": speakout_server.url(REPORT), "wordpress": wordpress_url, "casper": casper_url}
    finally:
        wordpress.stop()
        casper.stop()


def test_speakout_reads_at_least_as_comfortably_as_twenty_twenty_three_and_casper(
    chromium, three_pages, page_problems, artifact_path
):
    report, urls = three_pages
    starts = [text[:60] for text in report["paragraphs"]]
    results: dict[tuple[str, int], dict] = {}
    for width in WIDTHS:
        for name, url in urls.items():
            context = chromium.new_context(viewport={"width": width, "height": 900}, locale="en-GB")
            context.set_default_timeout(15_000)
            page = context.new_page()
            watched = page_problems(page, url.split("/", 3)[0] + "//" + url.split("/", 3)[2])
            page.goto(url, wait_until="load")
            page.evaluate("document.fonts.ready")
            artifact_path(f"reading-comfort-{name}-{width}", ".html").write_text(page.content())
            assert page.locator("h1").first.inner_text().strip() == report["title"], name
            summary = summarise(page.evaluate(MEASURE, starts))
            summary["score"] = sum(comfortable(summary, width).values())
            summary["comfortable"] = comfortable(summary, width)
            results[(name, width)] = summary
            page.screenshot(path=str(artifact_path(f"reading-comfort-{name}-{width}")), full_page=True)
            if name == "speakout":
                assert summary["paragraphs"] == len(report["paragraphs"]), summary
                assert not watched.problems, watched.problems
                assert all(request.startswith(urls["speakout"].split("/reports/")[0]) for request in watched.requests)
            context.close()

    table = {f"{name} {width}": summary for (name, width), summary in results.items()}
    artifact_path("reading-comfort", ".json").write_text(json.dumps(table, indent=2))
    for width in WIDTHS:
        ours = results[("speakout", width)]
        assert all(ours["comfortable"].values()), f"Speakout at {width} px: {ours}"
        for other in ("wordpress", "casper"):
            assert results[(other, width)]["paragraphs"] >= 3, (other, width, results[(other, width)])
            assert ours["score"] >= results[(other, width)]["score"], (width, table)
