"""The reply form's boxes about the writer's own reply, in Chromium: unticked for a guest (whose
ticked box brings one confirmation mail), ticked for a signed-in reader with a verified address,
and an unticked box is a no. (A signed-in reader without a verified address cannot sign in here:
verification is mandatory; the unit tests cover them.)"""

from __future__ import annotations

import json
import re
import time

import pytest

from tests.browser.helpers import wait_out_the_time_trap
from tests.helpers import word_marker

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("server")]

REPORT = "/reports/peer-safety-conference-lisbon/"
ANSWERS = "Email me when someone answers this reply"
OUTCOME = "Email me if a moderator publishes or removes this reply"


def shell(server, script: str):
    result = server.command("manage", "shell", "-c", script)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def wishes_of(server, body: str) -> dict:
    """What was asked about the reply with this text: its subscriptions and the mails queued."""
    return shell(
        server,
        "import json;"
        "from speakout.discussion.models import Reply;"
        "from speakout.outbox.models import OutgoingMail;"
        "from speakout.subscriptions.models import Subscription;"
        f"reply = Reply.objects.get(body={body!r});"
        "rows = Subscription.objects.filter(reply=reply).order_by('kind');"
        "print(json.dumps({'kinds': [row.kind for row in rows],"
        " 'confirmed': [row.confirmed_at is not None for row in rows],"
        " 'mails': OutgoingMail.objects.filter(to__in=[row.email for row in rows],"
        " text_body__contains='/subscriptions/confirm/').count()}))",
    )


def post(page, opened: float) -> None:
    wait_out_the_time_trap(opened)
    page.click("#respond .reply-form__submit")  # not the signed-in reader's "Log out" button
    page.wait_for_load_state()


@pytest.mark.parametrize("javascript", [True, False], ids=["with-javascript", "without-javascript"])
def test_a_guest_ticks_the_answers_box_and_gets_one_confirmation(new_context, speakout_server, javascript):
    marker = word_marker()
    page = new_context(java_script_enabled=javascript).new_page()
    page.goto(REPORT)
    opened = time.monotonic()
    answers, outcome = page.get_by_label(ANSWERS), page.get_by_label(OUTCOME)
    assert answers.is_visible() and outcome.is_visible()
    assert not answers.is_checked() and not outcome.is_checked(), "a typed address must confirm first"
    page.fill("#respond input[name=name]", "Wren")
    page.fill("#respond input[name=email]", f"wren-{marker}@example.org")
    body = f"Please tell me when someone answers ({marker})."
    page.fill("#respond textarea[name=body]", body)
    answers.check()
    post(page, opened)
    page.locator("article.reply", has_text=body).wait_for()
    assert wishes_of(speakout_server, body) == {"kinds": ["answers"], "confirmed": [False], "mails": 1}


def test_a_signed_in_reader_with_a_verified_address_finds_the_boxes_ticked(new_context, speakout_server):
    marker = word_marker()
    username, password = f"ada-{marker}", f"a long password {marker}"
    shell(
        speakout_server,
        "import json;"
        "from django.contrib.auth import get_user_model;"
        "from allauth.account.models import EmailAddress;"
        f"user = get_user_model().objects.create_user({username!r}, email={username + '@example.org'!r},"
        f" password={password!r});"
        "EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True);"
        "print(json.dumps(user.pk))",
    )
    context = new_context()
    page = context.new_page()
    page.goto("/accounts/login/")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", password)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"^(?!.*/accounts/login/)"))

    for _ in range(2):  # and again: nothing kept from the first view unticks them
        page.goto(REPORT)
        assert page.get_by_label(ANSWERS).is_checked() and page.get_by_label(OUTCOME).is_checked()
    opened = time.monotonic()
    page.get_by_label(OUTCOME).uncheck()
    body = f"Answers yes, decisions no ({marker})."
    page.fill("#respond textarea[name=body]", body)
    post(page, opened)
    page.locator("article.reply", has_text=body).wait_for()
    assert wishes_of(speakout_server, body) == {"kinds": ["answers"], "confirmed": [True], "mails": 0}
