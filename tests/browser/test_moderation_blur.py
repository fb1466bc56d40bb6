"""The moderation queue's blurred text in Chromium: reported and held replies are blurred, one
click reveals one of them, and it works under the admin's Content-Security-Policy.

The page is the real admin response (rendered by the test client, with its CSP header); its
static files are served from the project's static finders, so no server process is needed.
Scripts loaded by other files (Wagtail's chunks) get a 404, which the blur does not need.
"""

from __future__ import annotations

import mimetypes
import os
import re
import threading
import uuid

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from speakout.discussion.models import Flag, Reply
from speakout.discussion.services import Author, get_or_create_thread, submit_reply
from tests.browser.helpers import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.browser.layout import assert_inside, assert_label_visible_inside
from tests.discussion.helpers import form_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db, pytest.mark.xdist_group("server")]

ORIGIN = "http://speakout.test"


def add(thread, body, status=Reply.Status.PENDING, email="someone@example.org"):
    result = submit_reply(
        thread=thread,
        data=form_data(thread, body=body, email=email),
        author=Author(client_hash=uuid.uuid4().hex, guest_token=uuid.uuid4().hex),
        checks=[],
    )
    assert result.ok, result.errors
    Reply.objects.filter(pk=result.reply.pk).update(status=status)
    return result.reply


def serve(admin_response, page_path: str):
    """A route handler: the admin page for its address, static files from disk, nothing else.
    The files are read now, so the browser's thread needs nothing from Django."""
    headers = {name: value for name, value in admin_response.items() if name.lower() != "content-length"}
    files = {}
    for path in set(re.findall(r'(?:href|src)="(/static/[^"?]+)', admin_response.content.decode())):
        found = finders.find(path.removeprefix("/static/"))
        if found:
            with open(found, "rb") as file:
                files[path] = (mimetypes.guess_type(found)[0] or "application/octet-stream", file.read())

    def handle(route):
        path = route.request.url.removeprefix(ORIGIN).split("?")[0]
        if path == page_path:
            route.fulfill(status=200, headers=headers, body=admin_response.content)
        elif path in files:
            route.fulfill(status=200, content_type=files[path][0], body=files[path][1])
        else:
            route.fulfill(status=404, body=b"")

    return handle


def blur_of(page, reply) -> str:
    return page.eval_on_selector(f"#reply-{reply.pk} .speakout-veil__content", "node => getComputedStyle(node).filter")


def in_chromium(check) -> None:
    """Run ``check(browser)`` with Chromium in a thread of its own.

    Playwright's sync API changes the calling thread's context; Django keeps its database
    connections per context, so starting it in this thread would strand the test database's
    connection (and PostgreSQL could not drop that database at the end). The thread shares no
    connection: the page and its files are prepared before."""
    from playwright.sync_api import sync_playwright

    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"Chromium is missing: no browser at {CHROMIUM} (see tests/browser/conftest.py).", pytrace=False)
    failures: list[BaseException] = []

    def run():
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    check(browser)
                finally:
                    browser.close()
        except BaseException as error:  # re-raised in the test's thread
            failures.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=120)
    assert not thread.is_alive(), "the browser check took more than two minutes"
    if failures:
        raise failures[0]


@pytest.mark.usefixtures("rules")
def test_a_click_reveals_one_blurred_reply_under_the_admin_csp(admin_client):
    thread = get_or_create_thread("report-blur", url="http://testserver/reports/blur/", title="Blur report")
    first = add(thread, "First reported reply", status=Reply.Status.APPROVED)
    second = add(thread, "Second reported reply", status=Reply.Status.APPROVED, email="other@example.org")
    plain = add(thread, "Plain reply", status=Reply.Status.APPROVED, email="plain@example.org")
    for reply in (first, second):
        Flag.objects.create(reply=reply, reason=Flag.Reason.HARASSMENT)
    queue_path = reverse("speakout_moderation:queue", args=["approved"])
    response = admin_client.get(queue_path)
    assert response.status_code == 200
    assert "script-src" in response["Content-Security-Policy"], "the admin's policy applies"
    handler = serve(response, queue_path)

    def check(browser):
        ARTIFACTS.mkdir(exist_ok=True)
        context = browser.new_context(base_url=ORIGIN)
        page = context.new_page()
        problems = []
        page.on("console", lambda message: message.type == "error" and problems.append(message.text))
        page.route("**/*", handler)
        page.goto(queue_path)

        assert "blur" in blur_of(page, first) and "blur" in blur_of(page, second)
        show = page.locator(f"#reply-{first.pk} .speakout-veil__show")
        assert_label_visible_inside(show)
        assert_inside(show.locator("svg"), show)
        page.screenshot(path=str(ARTIFACTS / "admin-queue-veiled.png"))
        assert page.locator(f"#reply-{plain.pk} .speakout-veil").count() == 0
        assert page.locator(f"#reply-{plain.pk}").get_by_text("Plain reply").is_visible()

        page.locator(f"#reply-{first.pk}").get_by_text("Show this reply").click()

        assert blur_of(page, first) == "none", "the clicked reply is revealed"
        assert "blur" in blur_of(page, second), "the other stays blurred"
        assert page.locator(f"#reply-{first.pk}").get_by_text("Show this reply").is_hidden()
        # Only script and style matter here (the admin's own avatar image is another matter).
        blocked = [problem for problem in problems if "script-src" in problem or "style-src" in problem]
        assert not blocked, blocked

        page.reload()
        assert "blur" in blur_of(page, first), "nothing is remembered: a new page blurs it again"
        context.close()

    in_chromium(check)
