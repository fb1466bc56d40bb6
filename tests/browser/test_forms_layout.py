"""The site's forms as a reader sees them in Chromium: each checkbox beside its label, the
follow form's choices unambiguous, help and errors announced (every aria-describedby names an id
on the page), with and without JavaScript, at a desktop and a phone width."""

from __future__ import annotations

import time

import pytest

from tests.browser.helpers import REPORT, fill_guest_form, send_an_unusable_address, wait_out_the_time_trap
from tests.browser.layout import assert_below, assert_on_one_line

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("server")]

CHECKBOXES = ("#id_notify_replies", "#id_notify_posts", "#id_approved_repliers_only", "#follow_notify_replies")


def assert_checkboxes_beside_their_labels(page) -> None:
    found = 0
    for box in page.locator("input[type=checkbox]:visible").all():
        box_id = box.get_attribute("id")
        if not box_id:
            continue
        label = page.locator(f"label[for='{box_id}']")
        if label.count() == 1:
            assert_on_one_line(box, label)
            found += 1
    assert found >= 3, "the checks found no checkbox to measure"


def assert_descriptions_exist(page) -> None:
    described = page.locator("[aria-describedby]")
    assert described.count() > 0
    for element in described.all():
        for id_ in element.get_attribute("aria-describedby").split():
            assert page.locator(f"[id='{id_}']").count() == 1, f"aria-describedby names a missing id {id_!r}"


@pytest.mark.parametrize("width", [1280, 390])
def test_reply_and_follow_forms_are_laid_out_and_described(new_context, width, artifact_path):
    page = new_context(viewport={"width": width, "height": 900}).new_page()
    page.goto(REPORT)
    assert_checkboxes_beside_their_labels(page)
    for selector in CHECKBOXES:
        assert page.locator(selector).count() == 1, f"{selector} is missing"
    assert_descriptions_exist(page)
    assert page.locator("label[for=id_body] .field__required").inner_text() == "*"

    # "How often" belongs to new posts, is labelled so, and sits under that choice.
    often = page.get_by_label("How often to send new posts")
    assert often.is_visible()
    assert_below(page.locator("label[for=follow_notify_posts]"), often)
    assert "New comments always come" in page.locator("#follow_frequency_helptext").inner_text()
    page.locator("#follow").screenshot(path=artifact_path(f"follow-form-{width}"))


def test_the_no_javascript_error_page_keeps_the_layout(new_context, artifact_path):
    page = new_context(java_script_enabled=False, viewport={"width": 390, "height": 900}).new_page()
    send_an_unusable_address(page)
    error = page.locator("[data-field=email] .field__error")
    error.wait_for()
    assert_below(page.locator("#id_email"), error)
    assert_checkboxes_beside_their_labels(page)
    assert_descriptions_exist(page)
    page.screenshot(path=artifact_path("reply-rejected-nojs-390"), full_page=True)


def test_a_guest_may_be_remembered_in_this_browser_only_when_asked(new_context):
    context = new_context()
    page = context.new_page()
    page.goto(REPORT)
    remember = page.get_by_label("Save my name, email and website in this browser for my next reply")
    assert remember.is_visible() and not remember.is_checked(), "offered, and off by default"
    assert remember.get_attribute("name") is None, "never sent to the server"

    opened = time.monotonic()
    fill_guest_form(page, "Night Owl", "owl@example.org", "Not remembered unless I ask.")
    wait_out_the_time_trap(opened)
    page.click("#respond button[type=submit]")
    page.locator(".respond__status:not(:empty)").wait_for()
    assert page.evaluate("localStorage.getItem('speakout-guest-details')") is None

    page.goto(REPORT)
    assert page.input_value("#respond input[name=name]") == ""
    opened = time.monotonic()
    fill_guest_form(page, "Night Owl", "owl@example.org", "Remember me this time.")
    page.get_by_label("Save my name, email and website in this browser for my next reply").check()
    wait_out_the_time_trap(opened)
    page.click("#respond button[type=submit]")
    page.locator(".respond__status:not(:empty)").wait_for()

    again = context.new_page()
    again.goto(REPORT)
    assert again.input_value("#respond input[name=name]") == "Night Owl"
    assert again.input_value("#respond input[name=email]") == "owl@example.org"
    assert again.get_by_label("Save my name, email and website in this browser for my next reply").is_checked()
    again.get_by_label("Save my name, email and website in this browser for my next reply").uncheck()
    assert again.evaluate("localStorage.getItem('speakout-guest-details')") is None
