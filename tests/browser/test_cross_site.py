"""Forms in a real Chromium: a page on another loopback origin posting to Speakout is refused for
guests and for signed-in readers, and Speakout's own forms on a cached page go through in one
press with JavaScript switched off (no CSRF token in the page, no second page to send it again)."""

from __future__ import annotations

import html
import json
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.browser.helpers import sign_in
from tests.helpers import word_marker
from tests.integration.server import free_port

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("server")]

REPORT = "/reports/peer-safety-conference-lisbon/"


class AttackerSite:
    """Serves one page that posts a form to Speakout as soon as it loads."""

    def __init__(self, host: str):
        self.page = b""
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(site.page)

            def log_message(self, *args):
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.origin = f"http://{host}:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def posting(self, action: str, fields: dict[str, str]) -> str:
        inputs = "".join(
            f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'
            for name, value in fields.items()
        )
        self.page = (
            f'<!DOCTYPE html><form id="f" method="post" action="{html.escape(action)}">{inputs}</form>'
            '<script>document.getElementById("f").submit()</script>'
        ).encode()
        return f"{self.origin}/"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(params=["localhost", "127.0.0.1"], ids=["cross-site", "same-site-other-port"])
def attacker(request):
    """``localhost`` is another site than ``127.0.0.1``; the same address on another port is the
    same site but another origin (cookies marked SameSite=Lax still go with it)."""
    site = AttackerSite(request.param)
    yield site
    site.close()


def thread_key(speakout_server) -> str:
    status, _headers, body = speakout_server.get(REPORT)
    assert status == 200
    return re.search(rb'name="thread" value="([^"]+)"', body).group(1).decode()


def reply_count(speakout_server, text: str) -> int:
    script = f"from speakout.discussion.models import Reply; print(Reply.objects.filter(body={text!r}).count())"
    result = speakout_server.command("manage", "shell", "-c", script)
    assert result.returncode == 0, result.stderr
    return int(result.stdout.strip().splitlines()[-1])


def sign_in_context(context, server) -> None:
    page = context.new_page()
    sign_in(page, server)
    page.close()


@pytest.mark.parametrize("signed_in", [False, True], ids=["guest", "signed-in"])
def test_a_form_on_another_origin_cannot_post_to_speakout(new_context, speakout_server, attacker, signed_in):
    context = new_context()
    if signed_in:
        sign_in_context(context, speakout_server)
    body = f"Forged from {attacker.origin} ({word_marker()})."
    fields = {"thread": thread_key(speakout_server), "name": "Mallory", "email": "m@example.org", "body": body}
    page = context.new_page()
    with page.expect_response(lambda response: response.url.endswith("/discussion/post/")) as answer:
        page.goto(attacker.posting(speakout_server.url("/discussion/post/"), fields))
    assert answer.value.status == 403
    page.wait_for_load_state()
    assert body not in page.content() and "csrfmiddlewaretoken" not in page.content()
    assert reply_count(speakout_server, body) == 0


def test_the_admin_cannot_be_driven_from_another_origin(new_context, speakout_server, attacker):
    context = new_context()
    sign_in_context(context, speakout_server)
    name = f"mallory{uuid.uuid4().hex[:6]}"
    fields = {"username": name, "email": f"{name}@example.org", "first_name": "M", "last_name": "L",
              "password1": "an attacker's pass phrase", "password2": "an attacker's pass phrase",
              "is_superuser": "on"}  # fmt: skip
    page = context.new_page()
    with page.expect_response(lambda response: "/admin/users/" in response.url) as answer:
        page.goto(attacker.posting(speakout_server.url("/admin/users/new/"), fields))
    assert answer.value.status == 403
    page.wait_for_load_state()
    assert name not in page.content()
    script = f"from django.contrib.auth.models import User; print(User.objects.filter(username={name!r}).count())"
    result = speakout_server.command("manage", "shell", "-c", script)
    assert result.stdout.strip().splitlines()[-1] == "0"


def cached_page(context, path: str):
    """A page as a reader without JavaScript gets it from the shared cache."""
    context.new_page().goto(path)  # fills the cache if nobody has yet
    page = context.new_page()
    response = page.goto(path)
    assert response.headers.get("x-speakout-cache") == "hit", response.headers
    return page


def test_without_javascript_a_reply_on_a_cached_page_goes_in_one_press(new_context, speakout_server):
    context = new_context(java_script_enabled=False)
    page = cached_page(context, REPORT)
    assert "csrfmiddlewaretoken" not in page.content()
    text = f"One press, no script ({word_marker()})."
    page.fill("#respond input[name=name]", "Wren")
    page.fill("#respond input[name=email]", "wren@example.org")
    page.fill("#respond textarea[name=body]", text)
    page.click("#respond button[type=submit]")  # at once: the time trap does not apply here
    page.wait_for_load_state()
    assert re.search(r"#reply-\d+$", page.url), page.url
    page.locator("article.reply", has_text=text).wait_for()
    assert reply_count(speakout_server, text) == 1


def test_without_javascript_the_follow_form_goes_in_one_press(new_context, speakout_server):
    context = new_context(java_script_enabled=False)
    page = cached_page(context, REPORT)
    address = f"follow-{uuid.uuid4().hex[:8]}@example.org"
    follow = page.locator("form.follow-form")
    follow.locator("input[name=email]").fill(address)
    follow.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "/subscriptions/follow/" in page.url
    assert "quick" not in page.content().lower() and "send it again" not in page.content().lower()
    script = f"from speakout.subscriptions.models import Subscription; print(Subscription.objects.filter(email={address!r}).count())"  # noqa: E501
    result = speakout_server.command("manage", "shell", "-c", script)
    assert int(result.stdout.strip().splitlines()[-1]) >= 1, result.stderr


def test_without_javascript_the_contact_form_goes_in_one_press(new_context, speakout_server):
    context = new_context(java_script_enabled=False)
    page = cached_page(context, "/contact-us/")
    address = f"contact-{uuid.uuid4().hex[:8]}@example.net"
    page.get_by_label("Name").fill("Robin")
    page.get_by_label("Email").fill(address)
    page.get_by_label("Message").fill("Sent with scripts off, at once.")
    page.get_by_role("button", name="Send message").click()
    page.wait_for_url("**/contact-us/?sent=1")
    script = (
        "import json; from speakout.contact.models import ContactMessage;"
        f"print(json.dumps(list(ContactMessage.objects.filter(email={address!r}).values_list('is_spam', flat=True))))"
    )
    result = speakout_server.command("manage", "shell", "-c", script)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [False], result.stderr
