"""A reader's own reply in Chromium, with and without JavaScript: a very long reply folds its
rest behind a button (keyboard and axe checked), editing and deleting it each end on a notice
that says what happened, and site search finds words that only a reply holds."""

from __future__ import annotations

import time

import pytest

from tests.browser.helpers import (
    REPORT,
    approve_as_moderator,
    axe_problems,
    fill_guest_form,
    reply_id_with_text,
    wait_out_the_time_trap,
)
from tests.browser.layout import assert_label_visible_inside, box
from tests.helpers import word_marker

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("server")]


def long_text(marker: str) -> str:
    """About 20,000 characters in many paragraphs, the last one marked."""
    paragraphs = [
        f"Paragraph {n} of a very long account. " + "The council met again and nothing moved. " * 12 for n in range(40)
    ]
    return "\n\n".join(paragraphs) + f"\n\nThe very end ({marker})."


def post_as_guest(page, marker: str, body: str) -> int:
    page.goto(REPORT)
    opened = time.monotonic()
    fill_guest_form(page, "Lark", f"lark-{marker}@example.org", body)
    wait_out_the_time_trap(opened)
    page.click("#respond button[type=submit]")
    page.wait_for_load_state()
    page.locator("article.reply", has_text=marker).first.wait_for()
    return reply_id_with_text(page, marker)


@pytest.mark.parametrize("javascript", [True, False], ids=["with-javascript", "without-javascript"])
def test_long_reply_folds_then_edit_and_delete_say_so(new_context, javascript, artifact_path):
    marker = word_marker()
    body = long_text(marker)
    assert len(body) > 19_000
    page = new_context(java_script_enabled=javascript, viewport={"width": 1280, "height": 900}).new_page()
    reply_id = post_as_guest(page, marker, body)
    page.goto(REPORT)

    reply = page.locator(f"#reply-{reply_id}")
    fold = reply.locator("details.reply__more")
    summary = fold.locator("summary")
    assert fold.count() == 1 and fold.get_attribute("open") is None
    assert "Show the rest of this reply (" in summary.inner_text()
    assert box(reply)["height"] < 900, "folded, the reply is shorter than a screen"
    assert not page.get_by_text(f"The very end ({marker}).").is_visible()
    if javascript:  # scripts (axe, measuring the label) cannot run in a page without JavaScript
        assert_label_visible_inside(summary)
        problems = axe_problems(page, "folded reply")
        assert not problems, "\n".join(problems)
    # The keyboard opens it, and the whole text is there.
    summary.focus()
    page.keyboard.press("Enter")
    assert fold.get_attribute("open") is not None
    assert page.get_by_text(f"The very end ({marker}).").is_visible()
    assert summary.inner_text().strip() == "Show less"
    assert box(reply)["height"] > 2000
    page.screenshot(path=artifact_path(f"long-reply-open-{'js' if javascript else 'nojs'}"))

    # Edit: the reader lands on a notice that says so, with a link to the reply.
    reply.get_by_role("link", name="Edit").click()
    page.fill("textarea[name=body]", f"Shorter now ({marker}).")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_load_state()
    assert page.url.endswith("#discussion-notice")
    notice = page.locator("#discussion-notice")
    assert notice.get_attribute("role") == "status"
    assert "Your reply is updated." in notice.inner_text()
    assert notice.is_visible()
    assert page.locator(f"#reply-{reply_id}").inner_text().count(f"Shorter now ({marker}).") == 1
    if javascript:
        assert box(notice)["y"] < page.evaluate("window.scrollY + innerHeight"), "the page opens on the notice"
        problems = axe_problems(page, "edit notice")
        assert not problems, "\n".join(problems)
    page.reload()
    assert page.locator("#discussion-notice").count() == 0, "a notice shows once"

    # Delete: confirmed on its own page, then a notice, and the reply is gone.
    page.locator(f"#reply-{reply_id}").get_by_role("link", name="Delete").click()
    page.get_by_role("button", name="Delete it").click()
    page.wait_for_load_state()
    assert "Your reply is deleted." in page.locator("#discussion-notice").inner_text()
    assert page.locator(f"#reply-{reply_id}").count() == 0


def test_search_finds_words_only_a_reply_holds(new_context, speakout_server):
    marker = word_marker(10)
    guest = new_context().new_page()
    reply_id = post_as_guest(guest, marker, f"A word no page holds: zq{marker}.")
    reader = new_context().new_page()
    reader.goto(f"/search/?q=zq{marker}")
    assert f"0 results for “zq{marker}”" in reader.locator("main").inner_text(), "held replies are not searched"
    assert reader.locator(f"a[href$='#reply-{reply_id}']").count() == 0

    approve_as_moderator(new_context, speakout_server, reply_id)
    reader.goto(f"/search/?q=zq{marker}")
    result = reader.locator(f"main a[href$='#reply-{reply_id}']")
    assert "1 reply mentions" in reader.locator("main h2").inner_text()
    result.click()
    reader.wait_for_load_state()
    assert reader.url.endswith(f"{REPORT}#reply-{reply_id}")
    assert reader.locator(f"#reply-{reply_id}").is_visible()
    problems = axe_problems(reader, "search")
    assert not problems, "\n".join(problems)
