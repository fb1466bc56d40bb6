"""Every page type, in both colour schemes, checked by axe-core and photographed.

axe-core runs through the ``axe-playwright-python`` package on each public page type, each
account page, the contact page, the embed's hosted thread and the main admin screens, in light
and dark, and again after a form error. A serious or critical violation fails; a moderate or
minor one fails too unless docs/accessibility.md lists it with a reason (``ACCEPTED`` in helpers.py).
Screenshots of each page at 1280 and 390 px, light and dark, go to test-artifacts/.

One browser for the module, one page per colour scheme and width, reused for every address.
"""

from __future__ import annotations

import time

import pytest

from tests.browser.helpers import REPORT, axe_problems, sign_in, wait_out_the_time_trap

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("server")]

SCHEMES = ("light", "dark")
WIDTHS = (1280, 390)

PUBLIC = {
    "home": "/",
    "report-index": "/reports/",
    "report": REPORT,
    "search": "/search/?q=safety",
    "contact": "/contact-us/",
    "privacy": "/privacy/",
    "manage-replies": "/privacy/request/",
    "not-found": "/no-such-page/",
    "embed-thread": f"/embed/thread/?url=http://127.0.0.1{REPORT}",
}
ACCOUNT = {
    "sign-in": "/accounts/login/",
    "sign-up": "/accounts/signup/",
    "password-reset": "/accounts/password/reset/",
    "pseudonym": "/accounts/pseudonym/",
}
ADMIN = {
    "admin-dashboard": "/admin/",
    "admin-queue": "/admin/replies/pending/",
    "admin-contact": "/admin/contact/",
}


@pytest.fixture(scope="module")
def pages(chromium, speakout_server):
    """(scheme, width) -> one page, reused for every address."""
    contexts, found = [], {}
    for scheme in SCHEMES:
        for width in WIDTHS:
            context = chromium.new_context(
                base_url=speakout_server.base_url,
                color_scheme=scheme,
                viewport={"width": width, "height": 900},
                locale="en-GB",
            )
            context.set_default_timeout(20_000)
            contexts.append(context)
            found[(scheme, width)] = context.new_page()
    yield found
    for context in contexts:
        context.close()


def visit_all(pages, paths: dict[str, str], artifact_path, *, axe_widths=(1280,)) -> list[str]:
    problems = []
    for (scheme, width), page in pages.items():
        for name, path in paths.items():
            response = page.goto(path)
            assert response is not None and response.status in (200, 404), f"{path}: {response and response.status}"
            page.screenshot(path=artifact_path(f"{name}-{width}-{scheme}"), full_page=True)
            if width in axe_widths:
                problems += axe_problems(page, f"{name} ({scheme}, {width} px)")
    return problems


def test_public_pages_have_no_axe_violation(pages, artifact_path):
    problems = visit_all(pages, PUBLIC, artifact_path)
    assert not problems, "\n".join(problems)


def test_account_pages_have_no_axe_violation(pages, artifact_path):
    problems = visit_all(pages, ACCOUNT, artifact_path)
    assert not problems, "\n".join(problems)


def test_pages_after_a_form_error_have_no_axe_violation(pages, artifact_path):
    problems = []
    for scheme in SCHEMES:
        page = pages[(scheme, 1280)]
        page.goto("/contact-us/")
        page.get_by_label("Email").fill("not an address")
        page.get_by_role("button", name="Send message").click()
        page.locator(".error-summary").wait_for()
        page.screenshot(path=artifact_path(f"contact-error-1280-{scheme}"), full_page=True)
        problems += axe_problems(page, f"contact after an error ({scheme})")

        page.goto("/accounts/signup/")
        page.get_by_role("button", name="Create the account").click()
        page.locator(".error-summary").wait_for()
        page.screenshot(path=artifact_path(f"sign-up-error-1280-{scheme}"), full_page=True)
        problems += axe_problems(page, f"sign-up after an error ({scheme})")

        page.goto(REPORT)
        opened = time.monotonic()
        page.fill("#respond input[name=email]", "kit@example")
        page.fill("#respond textarea[name=body]", "x")
        wait_out_the_time_trap(opened)
        page.click("#respond button[type=submit]")
        page.locator("[data-field=email] .field__error").wait_for()
        problems += axe_problems(page, f"reply form after an error ({scheme})")
    assert not problems, "\n".join(problems)


def test_admin_screens_have_no_serious_axe_violation(chromium, speakout_server, artifact_path):
    for scheme in SCHEMES:
        for width in WIDTHS:
            context = chromium.new_context(
                base_url=speakout_server.base_url, color_scheme=scheme, viewport={"width": width, "height": 900}
            )
            page = context.new_page()
            sign_in(page, speakout_server)
            problems = []
            for name, path in ADMIN.items():
                page.goto(path)
                page.screenshot(path=artifact_path(f"{name}-{width}-{scheme}"), full_page=True)
                if width == 1280:
                    # Wagtail's own markup is not ours to fix: only serious and critical count here.
                    problems += [
                        problem
                        for problem in axe_problems(page, f"{name} ({scheme})")
                        if " serious " in problem or " critical " in problem
                    ]
            context.close()
            assert not problems, "\n".join(problems)
