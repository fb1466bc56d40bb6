"""The contact form end to end in Chromium, against the real server's demo site."""

from __future__ import annotations

import json
import time

import pytest

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
    page.get_by_label("Send me a copy").check()
    time.sleep(max(0.0, 3.5 - (time.monotonic() - loaded)))  # the time trap
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
    assert data == {"topic": "Volunteering", "spam": False, "mails": ["collective@example.org", "robin@example.net"]}
