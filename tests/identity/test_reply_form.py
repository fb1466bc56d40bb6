"""The reply form's identity part: guest fields and provider icons, or "commenting as"."""

from __future__ import annotations

import re

import pytest
from allauth.socialaccount.models import SocialApp
from django.urls import reverse

from speakout.discussion.models import Reply

pytestmark = pytest.mark.django_db


@pytest.fixture
def report(site_builder):
    return site_builder.report("River cleanup report")


def test_guest_sees_fields_and_one_local_icon_per_provider(client, report):
    page = client.get(report.url).content.decode()
    assert "Fill in your details below." in page and 'name="email"' in page
    assert "data-provider=" not in page
    SocialApp.objects.create(provider="github", name="GitHub", client_id="id", secret="s")
    SocialApp.objects.create(
        provider="openid_connect",
        provider_id="org",
        name="Org ID",
        client_id="id",
        settings={"server_url": "https://x"},
    )
    page = client.get(report.url).content.decode()
    assert "Fill in your details below or click an icon to log in" in page
    assert len(re.findall(r'<button form="identity-login-(github|org)"', page)) == 2
    icons = re.findall(r'<img src="([^"]+)" alt="Log in with', page)
    assert icons == ["/static/identity/icons/github.svg", "/static/identity/icons/openid.svg"]
    # The hidden login forms post to our own site and come back to the form.
    forms = re.findall(r'<form id="identity-login-[^"]+" method="post" action="([^"]+)"', page)
    assert forms == ["/accounts/github/login/", "/accounts/oidc/org/login/"]
    assert f'name="next" value="{report.url}#respond"' in page


def test_signed_in_reader_comments_as_themselves(client, report, user_factory):
    user, _password = user_factory(first_name="Ada", last_name="Byron")
    client.force_login(user)
    page = client.get(f"{report.url}?replyto=").content.decode()
    assert "You are commenting as <strong>Ada Byron</strong>" in page
    reply_form = page[page.index('id="respond"') : page.index('id="follow"')]
    assert 'data-field="email"' not in reply_form, "no guest fields for a signed-in reader"
    assert reverse("identity:switch") in page
    assert f'action="{reverse("account_logout")}"' in page


def test_provider_post_hands_over_with_a_page_not_a_redirect(client):
    from django.http import HttpResponseRedirect
    from django.test import RequestFactory

    from speakout.identity.middleware import ProviderRedirectMiddleware

    request = RequestFactory().post("/accounts/github/login/")
    request.user = None
    response = ProviderRedirectMiddleware(
        lambda r: HttpResponseRedirect("https://github.com/login/oauth/authorize?x=1")
    )(request)
    assert response.status_code == 200
    assert b'http-equiv="refresh" content="0;url=https://github.com/login/oauth/authorize?x=1"' in response.content
    same_site = ProviderRedirectMiddleware(lambda r: HttpResponseRedirect("/reports/"))(request)
    assert same_site.status_code == 302


def test_signed_in_reply_is_linked_to_the_account(client, report, user_factory, settings):
    from speakout.discussion.forms import issue_form_token
    from speakout.discussion.models import DiscussionSettings

    settings.SPEAKOUT_DISCUSSION_MIN_SECONDS_TO_SUBMIT = 0
    rules = DiscussionSettings.load()
    rules.hold_first_reply = False
    rules.save()
    user, _password = user_factory()
    client.force_login(user)
    client.get(report.url)
    thread_key = f"report-{report.pk}"
    response = client.post(
        reverse("discussion:post"),
        {
            "thread": thread_key,
            "body": "As a member.",
            "form_token": issue_form_token(thread_key),
            "submission_id": "a1",
        },
    )
    assert response.status_code == 303
    assert Reply.objects.get(body="As a member.").user == user
