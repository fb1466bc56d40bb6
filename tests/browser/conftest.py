"""Chromium (Debian's package) driven through Playwright against the real `speakout run`.

The server is the shared ``speakout_server`` fixture from tests/integration/server.py: these
tests go in the same xdist group ("server"), so one process serves them all.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

# Playwright's sync API runs an event loop in this thread; Django (set up by pytest-django in
# this process) would otherwise refuse synchronous database calls made from that thread.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import pytest  # noqa: E402

from tests.browser.helpers import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.integration.server import (  # noqa: E402
    database_kind,
    pytest_collection_modifyitems,  # noqa: F401  (keeps the "server" xdist group on one worker)
    speakout_server,  # noqa: F401  (the shared `speakout run` process)
)


@pytest.fixture(scope="session")
def chromium():
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"Chromium is missing: no browser at {CHROMIUM}. The browser tests need Debian's "
            "Chromium; install it with `apt-get install chromium` (do not run `playwright "
            "install`), or point SPEAKOUT_TEST_CHROMIUM at another Chromium binary.",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def new_context(chromium, speakout_server):  # noqa: F811  (the fixture imported above)
    """Make browser contexts (fresh cookies) whose relative URLs go to the server."""
    contexts = []

    def make(**options):
        options.setdefault("locale", "en-GB")
        context = chromium.new_context(base_url=speakout_server.base_url, **options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def browser_page(new_context):
    return new_context().new_page()


class PageProblems:
    """Everything wrong seen while a page loads: another origin, an error status or message.

    A Content-Security-Policy violation shows as a console error, so the site's strict policy
    is checked too.
    """

    def __init__(self, page, origin: str):
        self.origin = origin
        self.current = ""
        self.problems: list[str] = []
        self.requests: list[str] = []
        page.on("request", self._request)
        page.on("response", self._response)
        page.on("requestfailed", self._failed)
        page.on("console", self._console)
        page.on("pageerror", self._page_error)

    def _add(self, message: str) -> None:
        self.problems.append(f"{self.current}: {message}")

    def _request(self, request) -> None:
        self.requests.append(request.url)
        if request.url.startswith("data:"):
            return
        parts = urlsplit(request.url)
        if f"{parts.scheme}://{parts.netloc}" != self.origin:
            self._add(f"request to another origin: {request.url}")

    def _response(self, response) -> None:
        if response.status >= 400:
            self._add(f"HTTP {response.status} for {response.url}")

    def _failed(self, request) -> None:
        if request.failure != "net::ERR_ABORTED":
            self._add(f"request failed ({request.failure}): {request.url}")

    def _console(self, message) -> None:
        if message.type == "error":
            self._add(f"console error: {message.text} ({message.location.get('url', '')})")

    def _page_error(self, error) -> None:
        self._add(f"script error: {error}")


@pytest.fixture
def page_problems():
    return PageProblems


@pytest.fixture
def artifact_path():
    """A path under test-artifacts/ (project root), named for the database of this run."""

    def path(name: str, suffix: str = ".png") -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        return ARTIFACTS / f"{name}-{database_kind()}{suffix}"

    return path
