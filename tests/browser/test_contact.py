"""The contact form end to end in Chromium, against the real server's demo site."""

from __future__ import annotations

import json
import time

import pytest

from tests.browser.helpers import wait_out_the_time_trap
from tests.browser.layout import assert_below, assert_never_reachable

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("server")]


def test_visitor_sends_a_message_and_it_is_stored_and_queued(new_context, speakout_server):
    page = new_context().new_page()
    page.goto("/contact-us/")
    loaded = time.monotonic()
    assert "collective@example.org" not in page.content()
    page.get_by_label("Name").fill("Robin")
    page.get_by_label("Email").fill("robin@example.net")
    page.get_by_label("Topic").select_option("Volunteering")
    page.get_by_label("Message").fill("I can help on Thursday evenings.")
    # A copy is offered only to a signed-in reader with a verified address (docs/security.md).
    assert page.get_by_label("Send me a copy").count() == 0
    wait_out_the_time_trap(loaded)
    page.get_by_role("button", name="Send message").click()
    page.wait_for_url("**/contact-us/?sent=1")
    assert "Your message has reached the collective" in page.content()

    script = (
        "import json;"
        "from speakout.contact.models import ContactMessage;"
        "from speakout.outbox.models import OutgoingMail;"
        "m = ContactMessage.objects.get(email='robin@example.net');"
        "print(json.dumps({'topic': m.topic, 'spam': m.is_spam,"
        " 'mails': sorted(OutgoingMail.objects.filter(text_body__contains='Thursday evenings')"
        ".values_list('to', flat=True))}))"
    )
    result = speakout_server.command("manage", "shell", "-c", script)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout.strip().splitlines()[-1])
    assert data == {"topic": "Volunteering", "spam": False, "mails": ["collective@example.org"]}


@pytest.mark.parametrize("width", [1280, 390])
def test_the_spam_trap_is_never_visible_nor_reachable(new_context, width):
    page = new_context(viewport={"width": width, "height": 900}).new_page()
    page.goto("/contact-us/")
    assert_never_reachable(page, "input[name=homepage]", "Leave this field empty")


def test_errors_are_summarised_and_shown_under_their_fields(new_context, artifact_path):
    page = new_context(viewport={"width": 390, "height": 900}).new_page()
    page.goto("/contact-us/")
    page.get_by_label("Email").fill("not an address")
    page.get_by_role("button", name="Send message").click()
    summary = page.locator(".error-summary")
    summary.wait_for()
    assert summary.get_by_role("link", name="Email").is_visible()
    error = page.locator("#id_email-error")
    assert_below(page.locator("#id_email"), error)
    assert_below(error, page.locator("#id_email_helptext"))
    colours = page.evaluate(
        "() => [getComputedStyle(document.querySelector('#id_email-error')).color,"
        " getComputedStyle(document.body).color]"
    )
    assert colours[0] != colours[1], "an error is in the body colour"
    described = page.locator("#id_email").get_attribute("aria-describedby").split()
    for id_ in described:
        assert page.locator(f"#{id_}").count() == 1, f"aria-describedby names a missing id {id_}"
    page.screenshot(path=artifact_path("contact-error-390"), full_page=True)


def test_a_message_the_filter_catches_is_held_and_the_sender_is_told(new_context, speakout_server):
    page = new_context().new_page()
    page.goto("/contact-us/")
    loaded = time.monotonic()
    page.get_by_label("Name").fill("Robot")
    page.get_by_label("Email").fill("robot@example.net")
    page.get_by_label("Message").fill("Cheap offers for your organisation.")
    # What a robot does: fill every field it finds, the hidden one too.
    page.evaluate("() => { document.querySelector('input[name=homepage]').value = 'http://spam.example'; }")
    wait_out_the_time_trap(loaded)
    page.get_by_role("button", name="Send message").click()
    page.wait_for_url("**/contact-us/?held=1")
    text = page.locator("main").inner_text()
    assert "reached the collective" not in text
    assert "waiting for a person to check it" in text
