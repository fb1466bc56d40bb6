"""What the browser journeys share: the report they read, the guest form, signing in as the
administrator, and a static site on its own port that embeds the discussion."""

from __future__ import annotations

import functools
import os
import re
import threading
import time
import urllib.request
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.integration.server import HTTP, PROJECT_ROOT, TIME_TRAP_SECONDS, free_port

CHROMIUM = os.environ.get("SPEAKOUT_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"

REPORT = "/reports/peer-safety-conference-lisbon/"


def wait_out_the_time_trap(page_opened_at: float) -> None:
    """The form holds posts sent within seconds of being shown (the test servers' shorter time
    trap); a person takes longer."""
    remaining = TIME_TRAP_SECONDS + 0.5 - (time.monotonic() - page_opened_at)
    if remaining > 0:
        time.sleep(remaining)


def fill_guest_form(page, name: str, email: str, body: str) -> None:
    page.fill("#respond input[name=name]", name)
    page.fill("#respond input[name=email]", email)
    page.fill("#respond textarea[name=body]", body)


def send_an_unusable_address(page) -> None:
    """Open the report and send the form with an address the browser takes and the server does
    not (no dot in the domain), past the time trap."""
    page.goto(REPORT)
    opened = time.monotonic()
    fill_guest_form(page, "Kit", "kit@example", "Words I do not want to lose.")
    wait_out_the_time_trap(opened)
    page.click("#respond button[type=submit]")


def reply_id_with_text(page, text: str) -> int:
    article = page.locator("article.reply", has_text=text).first
    return int(article.get_attribute("id").removeprefix("reply-"))


def sign_in(page, server) -> None:
    """Sign ``page`` in to the admin as the server's administrator."""
    page.goto("/admin/login/")
    page.fill("input[name=login]", server.admin_username)
    page.fill("input[name=password]", server.admin_password)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/admin/$"))


def approve_as_moderator(new_context, server, reply_id: int) -> None:
    moderator = new_context().new_page()
    sign_in(moderator, server)
    moderator.goto("/admin/replies/pending/")
    moderator.click(f"button[name=single][value='approve:{reply_id}']")
    moderator.wait_for_load_state()
    assert moderator.locator(f"button[name=single][value='approve:{reply_id}']").count() == 0


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class StaticSite:
    """A plain web server on its own port: the "other site" that embeds the discussion."""

    def __init__(self, root: Path):
        self.root = root
        self.port = free_port()
        handler = functools.partial(QuietHandler, directory=str(root))
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def write(self, name: str, html: str) -> str:
        (self.root / name).write_text(html)
        return f"{self.origin}/{name}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def allow(server, origin: str) -> None:
    """Allow-list ``origin`` with the real command (another process), then check the server
    answers for it at once (the web process's copy of the list follows a shared version)."""
    result = server.command("manage", "speakout_embed_allow", origin)
    assert result.returncode == 0, result.stderr
    request = urllib.request.Request(server.url("/embed/api/strings"), headers={"Origin": origin})
    with HTTP.open(request, timeout=10) as response:
        assert response.headers.get("Access-Control-Allow-Origin") == origin, f"{origin} is not allowed yet"


#: axe rule ids accepted with a reason in docs/accessibility.md ("Known exceptions").
ACCEPTED: dict[str, str] = {}


def axe_problems(page, name: str) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    problems = []
    for violation in results.response["violations"]:
        if violation["id"] in ACCEPTED and violation["impact"] in ("minor", "moderate"):
            continue
        targets = [", ".join(node["target"]) for node in violation["nodes"][:3]]
        problems.append(f"{name}: {violation['impact']} {violation['id']} ({violation['help']}) at {targets}")
    return problems
