"""The reply flow in Chromium, with and without JavaScript: a guest replies and sees it awaiting
moderation, a moderator approves it in the admin, everyone sees it, and a reply to it nests."""

from __future__ import annotations

import re
import time

import pytest

from tests.browser.helpers import (
    REPORT,
    approve_as_moderator,
    fill_guest_form,
    reply_id_with_text,
    send_an_unusable_address,
    wait_out_the_time_trap,
)
from tests.helpers import word_marker

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("server")]


def public_text(new_context, javascript: bool = True) -> str:
    reader = new_context(java_script_enabled=javascript).new_page()
    reader.goto(REPORT)
    return reader.locator("#discussion").inner_text()


@pytest.mark.parametrize("javascript", [True, False], ids=["with-javascript", "without-javascript"])
def test_guest_reply_is_held_approved_then_answered_in_a_nested_reply(new_context, speakout_server, javascript):
    marker = word_marker()
    first_text = f"Thank you for these notes ({marker})."
    answer_text = f"And a follow-up question ({marker})."
    guest = new_context(java_script_enabled=javascript).new_page()

    guest.goto(REPORT)
    opened = time.monotonic()  # the form's time stamp was issued before the page arrived
    fill_guest_form(guest, "Wren", f"wren-{marker}@example.org", first_text)
    wait_out_the_time_trap(opened)
    guest.click("#respond button[type=submit]")

    held = guest.locator("article.reply--held", has_text=first_text)
    held.wait_for()
    assert "Awaiting moderation." in held.inner_text()
    if javascript:
        assert "awaiting moderation" in guest.locator(".respond__status").inner_text().lower()
    else:
        assert re.search(r"#reply-\d+$", guest.url), "the plain post lands on the reply's anchor"
    assert first_text not in public_text(new_context), "a held reply is for its author only"

    reply_id = reply_id_with_text(guest, first_text)
    approve_as_moderator(new_context, speakout_server, reply_id)
    assert first_text in public_text(new_context)

    # The guest answers their own, now approved, reply: it nests under it.
    guest.goto(REPORT)
    opened = time.monotonic()
    guest.click(f"#reply-{reply_id} [data-reply-to]")
    title = guest.locator("#reply-title").inner_text()
    assert "Leave a Reply to Wren" in title
    if javascript:
        # The script moved the form under the reply being answered.
        assert guest.locator(f"[data-reply-item='{reply_id}'] #respond").count() == 1
    else:
        assert "replyto=" in guest.url
        opened = time.monotonic()  # the link loaded a new page, with a newly stamped form
    fill_guest_form(guest, "Wren", f"wren-{marker}@example.org", answer_text)
    wait_out_the_time_trap(opened)
    guest.click("#respond button[type=submit]")
    guest.wait_for_load_state()  # without JavaScript the post navigates; look at the new page
    guest.locator("article.reply", has_text=answer_text).wait_for()

    reader = new_context(java_script_enabled=javascript).new_page()
    reader.goto(REPORT)
    nested = reader.locator(f"[data-reply-item='{reply_id}'] ol.replies--nested article.reply", has_text=answer_text)
    assert nested.count() == 1, "the answer is shown nested under the reply it answers"


def test_bad_input_comes_back_with_the_text_and_a_field_message(new_context, speakout_server):
    page = new_context().new_page()
    send_an_unusable_address(page)

    error = page.locator("[data-field=email] .field__error")
    error.wait_for()
    assert "valid email" in error.inner_text()
    assert page.input_value("#respond textarea[name=body]") == "Words I do not want to lose."
    assert page.locator("#respond input[name=email]").get_attribute("aria-invalid") == "true"
