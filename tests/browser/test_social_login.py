"""Social login end to end: a reader clicks the provider's icon on a report's reply form, signs
in at a real OpenID Connect provider on loopback, consents, chooses the name shown on replies,
comes back to the same report and posts a reply as that identity. Before the click, no page
makes a request off the site."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from allauth.socialaccount.models import SocialAccount, SocialApp

from speakout.discussion.models import DiscussionSettings, Reply
from speakout.discussion.services import Author, submit_reply
from speakout.publishing.discussion import thread_for_report
from tests.helpers import SiteBuilder
from tests.identity.oidc import oidc_provider  # noqa: F401  (the loopback provider process)

# Chromium (the session's one Playwright, from tests/browser/conftest.py) against pytest-django's
# live server, which runs in this process so the test can set up and check the database.
# One transactional test only (the live server's thread must see its rows); serialized_rollback
# asks pytest-django to keep what migrations created (Wagtail's root page) for later tests.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_reader_logs_in_with_the_oidc_provider_and_replies_as_that_identity(
    live_server,
    oidc_provider,  # noqa: F811
    chromium,
    settings,
):
    settings.SPEAKOUT_DISCUSSION_MIN_SECONDS_TO_SUBMIT = 0
    report = SiteBuilder().report("Water rights hearing")
    report_path = urlsplit(report.full_url).path
    rules = DiscussionSettings.load()
    rules.hold_first_reply = False
    rules.save()
    thread = thread_for_report(report)
    earlier = submit_reply(
        thread=thread,
        data={"thread": thread.key, "name": "Jun", "email": "jun@example.org", "website": "", "body": "Who testified?"},
        author=Author(),
        checks=[],
        check_form_token=False,
        rules=rules,
    ).reply
    SocialApp.objects.create(
        provider="openid_connect",
        provider_id="loopback",
        name="Loopback ID",
        client_id=oidc_provider.client_id,
        secret=oidc_provider.client_secret,
        settings={"server_url": oidc_provider.server_url},
    )

    # Before any click, no page (the report, sign in, sign up, password reset) asks another origin
    # for anything: the icons are local and nothing of the provider's loads.
    context = chromium.new_context(base_url=live_server.url, locale="en-GB")
    origin = urlsplit(live_server.url).netloc
    elsewhere = []
    context.on("request", lambda request: urlsplit(request.url).netloc == origin or elsewhere.append(request.url))
    try:
        page = context.new_page()
        for path in (report_path, "/accounts/signup/", "/accounts/password/reset/", "/accounts/login/"):
            page.goto(path)
            page.wait_for_load_state("networkidle")
        assert page.locator("button[data-provider=loopback]").count() == 1, "the login page lists the provider"
    finally:
        context.close()
    assert elsewhere == []

    context = chromium.new_context(base_url=live_server.url, locale="en-GB")
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        page.goto(report_path)
        assert "Fill in your details below or click an icon to log in" in page.inner_text("#respond")
        # Answer Jun's reply: the script moves the form under it; the login must come back there.
        page.click(f"a[data-reply-to='{earlier.pk}']")
        assert "Leave a Reply to Jun" in page.inner_text("#reply-title")

        page.click("#respond button[data-provider=loopback]")
        page.wait_for_url(re.compile(r"^http://127\.0\.0\.2:\d+/login/"))
        page.fill("input[name=username]", oidc_provider.username)
        page.fill("input[name=password]", oidc_provider.password)
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r"^http://127\.0\.0\.2:\d+/o/authorize/"))
        page.click("input[name=allow]")  # consent

        # The provider's name is not taken: the reader chooses the one their replies show.
        page.wait_for_url(f"{live_server.url}/accounts/3rdparty/signup/")
        assert page.input_value("input[name=username]") == ""
        page.fill("input[name=username]", "Night Owl")
        page.click("form.account-form button[type=submit]")
        page.wait_for_url(re.compile(re.escape(f"{live_server.url}{report_path}?replyto={earlier.pk}") + r"#respond$"))
        assert "Leave a Reply to Jun" in page.inner_text("#reply-title")
        identity = page.inner_text("#respond .respond__identity")
        assert "You are commenting as Night Owl" in identity and oidc_provider.name not in identity
        assert "Log out" in identity and "Change" in identity

        page.fill("#respond textarea[name=body]", "Signed in through the loopback provider.")
        page.click("#respond button.reply-form__submit")
        page.locator("article.reply", has_text="Signed in through the loopback provider.").wait_for()
    finally:
        context.close()

    reply = Reply.objects.get(body="Signed in through the loopback provider.")
    assert reply.user is not None
    assert reply.parent_id == earlier.pk, "it answers the reply the reader had chosen"
    account = SocialAccount.objects.get(user=reply.user)
    assert account.provider == "loopback"
    assert reply.user.email == oidc_provider.email and reply.user.get_full_name() == ""
