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


def test_post_anyway_is_offered_when_the_form_posts_with_its_script(new_context, speakout_server):
    """docs/safety.md: a reply that seems to hold personal data is refused with "Please take it
    out, or tick “Post anyway”", and the form shows a **Post anyway** box. Without JavaScript the
    refusal page has it (``_confirm.html``); with it, the form posts with ``Accept:
    application/json`` and the answer's ``"confirm"`` must put the same box in the form, or the
    reader is told to tick a box that is not there and cannot send their reply as written."""
    marker = word_marker()
    text = f"Ring the landlord on 07700 900123 ({marker})."
    page = new_context().new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on("console", lambda m: m.type == "error" and "status of 400" not in m.text and problems.append(m.text))
    page.goto(REPORT)
    opened = time.monotonic()
    fill_guest_form(page, "Lark", f"lark-{marker}@example.org", text)
    wait_out_the_time_trap(opened)
    page.click("#respond button[type=submit]")

    page.locator("[data-field=body] .field__error", has_text="Post anyway").wait_for()
    assert page.input_value("#respond textarea[name=body]") == text, "the text is kept"
    box = page.locator("#respond form input[name=confirm]")
    assert box.count() == 1, "the refusal asks to tick “Post anyway”, but the form has no such box"
    assert box.get_attribute("value") == "personal_data"
    assert box.get_attribute("id") == "id_confirm_personal_data"
    assert page.locator("#respond form .field--confirm[data-field=confirm]").count() == 1

    # A refusal that no longer asks (the number taken out, an unusable address) takes the box
    # away; the next one that asks brings it back.
    fill_guest_form(page, "Lark", "lark@example", f"Ring the landlord ({marker}).")
    page.click("#respond button[type=submit]")
    page.locator("[data-field=email] .field__error").wait_for()
    assert box.count() == 0, "the box stays after a refusal that does not ask for it"
    fill_guest_form(page, "Lark", f"lark-{marker}@example.org", text)
    page.click("#respond button[type=submit]")
    page.locator("[data-field=body] .field__error", has_text="Post anyway").wait_for()
    assert box.count() == 1
    page.get_by_label("Post anyway: a moderator will read it first").check()  # its label names it
    page.click("#respond button[type=submit]")

    held = page.locator("article.reply--held", has_text=marker)
    held.wait_for()
    assert "awaiting moderation" in page.locator(".respond__status").inner_text().lower()
    assert page.locator("#respond input[name=confirm]").count() == 0, "the box goes with the refusal"
    script = f"from speakout.discussion.models import Reply;print(Reply.objects.get(body__contains={marker!r}).status)"
    result = speakout_server.command("manage", "shell", "-c", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "pending", "posted anyway, for a moderator to read first"
    assert problems == []
