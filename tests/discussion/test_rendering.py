"""Reply bodies: a Markdown subset rendered once, then sanitised; raw HTML is text."""

import pytest

from speakout.discussion.rendering import count_links, render_markdown
from tests.discussion.inert import assert_inert


@pytest.mark.parametrize(
    "source,expected",
    [
        ("*soft* and **strong**", "<p><em>soft</em> and <strong>strong</strong></p>"),
        ("> quoted", "<blockquote>\n<p>quoted</p>\n</blockquote>"),
        ("- one\n- two", "<ul>\n<li>one</li>\n<li>two</li>\n</ul>"),
        ("1. first\n2. second", "<ol>\n<li>first</li>\n<li>second</li>\n</ol>"),
        ("use `code` here", "<p>use <code>code</code> here</p>"),
        ("line one\nline two", "<p>line one<br>\nline two</p>"),
        (
            "[site](https://example.org/a)",
            '<p><a href="https://example.org/a" rel="nofollow ugc noopener">site</a></p>',
        ),
    ],
)
def test_markdown_subset(source, expected):
    assert render_markdown(source) == expected


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click](data:text/html;base64,PHNjcmlwdD4=)",
        "[click](vbscript:msgbox(1))",
        '<a href="javascript:alert(1)">x</a>',
        "![x](javascript:alert(1))",
        "<svg onload=alert(1)>",
        "<iframe src=//evil.example></iframe>",
        '<p style="background:url(javascript:alert(1))">x</p>',
        '[x](https://ok.example "title" onmouseover=alert(1))',
    ],
)
def test_hostile_markup_is_inert(hostile):
    assert_inert(render_markdown(hostile))


def test_raw_html_is_shown_as_text():
    assert render_markdown("<b>bold?</b>") == "<p>&lt;b&gt;bold?&lt;/b&gt;</p>"


def test_headings_and_images_are_not_part_of_the_subset():
    assert "<h1" not in render_markdown("# Big")
    assert "<img" not in render_markdown("![alt](https://example.org/a.png)")


def test_links_are_counted_whether_marked_up_or_bare():
    assert count_links("no links") == 0
    assert count_links("see https://a.example and [b](https://b.example)") == 2
    assert count_links("www.example.org") == 1
