"""Very long replies fold their rest into a <details> element; short ones are shown whole, and
the folded markup is still well formed (every element opened is closed, in both parts)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from speakout.discussion.collapse import split_long
from speakout.discussion.html import ReplyRenderer
from speakout.discussion.reading import ReplyNode
from speakout.discussion.rendering import render_markdown
from tests.discussion.helpers import post

pytestmark = pytest.mark.django_db


class Balance(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in {"br", "hr", "img", "wbr"}:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (self.stack, tag)
        self.stack.pop()


def balanced(html: str) -> bool:
    parser = Balance()
    parser.feed(html)
    parser.close()
    return parser.stack == []


def text_of(html: str) -> str:
    parts: list[str] = []
    parser = HTMLParser()
    parser.handle_data = parts.append
    parser.feed(html)
    return "".join(parts)


def test_short_replies_are_whole():
    html = render_markdown("A short reply with *some* words.")
    assert split_long(html, longer_than=3000, lead=1200) is None


def test_many_paragraphs_fold_at_a_paragraph_end():
    paragraphs = [f"Paragraph {n} " + "word " * 60 for n in range(30)]
    html = render_markdown("\n\n".join(paragraphs))
    lead, rest, words = split_long(html, longer_than=3000, lead=1200)
    assert lead.endswith("</p>") and rest.lstrip().startswith("<p>")
    assert lead + rest == html, "nothing lost, nothing added"
    assert 1200 <= len(text_of(lead)) < 1700
    assert words == len(text_of(rest).split())


def test_one_huge_paragraph_with_markup_folds_inside_it():
    """A 20,000-character wall of text in one paragraph, with a link and emphasis throughout."""
    body = " ".join(f"**strong {n}** and [a link](https://example.org/{n}) then plain &amp; words" for n in range(500))
    html = render_markdown(body)
    assert len(text_of(html)) > 20000
    lead, rest, words = split_long(html, longer_than=3000, lead=1200)
    assert balanced(lead) and balanced(rest)
    assert 1200 <= len(text_of(lead)) <= 1300
    assert text_of(lead) + text_of(rest) == text_of(html), "every character is kept, in order"
    assert words > 2500


def test_the_list_shows_the_lead_and_folds_the_rest(thread, rules):
    reply = post(thread, body="\n\n".join("Paragraph " + "word " * 80 for _ in range(60))).reply
    html = ReplyRenderer(accepts_replies=True).render(ReplyNode(reply=reply, display_depth=0))
    assert html.count('<details class="reply__more">') == 1
    assert '<span class="reply__more-closed">Show the rest of this reply (' in html
    assert "more words)</span>" in html and '<span class="reply__more-open">Show less</span>' in html
    assert balanced(html)
    result = post(thread, body="Just a line.", email="kim@example.org")
    short = result.reply
    assert short is not None, result
    assert "<details" not in ReplyRenderer(accepts_replies=True).render(ReplyNode(reply=short, display_depth=0))
