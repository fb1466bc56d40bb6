"""Review of accounts: what name a signed-in account's reply shows publicly.

``discussion.services.display_name_for`` shows an account's full name, else its username, on
every reply it writes. A login provider knows the person by their legal name and address; the
public name must be one the person chooses here. These tests follow a provider sign-up (the
callback, then allauth's social sign-up form) and each failing one shows a path where a reply is
signed with what the provider knows (the full name, the address or its local part) without the
person choosing it."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.cache import cache
from django.test import Client, RequestFactory
from django.urls import reverse

from speakout.discussion.models import Reply
from tests.security.claims import fresh_client, send

pytestmark = pytest.mark.django_db

ADDRESS = "rosa.k@example.org"
LEGAL_NAME = {"given_name": "Rosa", "family_name": "Kowalska", "name": "Rosa Kowalska"}
CLAIMS = {
    # Many OpenID Connect providers (and Google or GitHub accounts with no public name) send an
    # address and no name: allauth then makes the username from the address's local part.
    "address only": {"sub": "1001", "email": ADDRESS, "email_verified": True},
    # Keycloak ("Email as username"), Azure AD / Entra and many company servers send the address
    # as ``preferred_username``, which the site's username validator allows.
    "address as preferred username": {
        "sub": "1002",
        "email": ADDRESS,
        "email_verified": True,
        "preferred_username": ADDRESS,
    },
    # Google, GitHub and most providers send the person's full (legal) name, which allauth keeps
    # as the account's first and last name: the name its replies show.
    "legal name": {"sub": "1003", "email": ADDRESS, "email_verified": True, **LEGAL_NAME},
}


def provider_callback(claims: dict) -> tuple[Client, str]:
    """What allauth's OpenID Connect callback does once the provider has answered with ``claims``
    (the ID token / userinfo): build the social login and complete it. Returns a browser holding
    the session the callback left, and where the callback sent it."""
    from allauth.core import context
    from allauth.socialaccount.helpers import complete_social_login
    from allauth.socialaccount.models import SocialApp

    app = SocialApp.objects.create(
        provider="openid_connect",
        provider_id="org-id",
        name="Org ID",
        client_id="abc",
        secret="s",
        settings={"server_url": "https://id.example.org"},
    )
    browser = Client()
    request = RequestFactory().get("/accounts/oidc/org-id/login/callback/")
    request.session = browser.session
    request.user = AnonymousUser()
    request._messages = FallbackStorage(request)
    with context.request_context(request):
        login = app.get_provider(request).sociallogin_from_response(request, claims)
        login.state = {"process": "login", "next": "/"}
        response = complete_social_login(request, login)
    request.session.save()
    assert response.status_code == 302
    return browser, response["Location"]


def public_name_of_a_reply_by(user, site, **fields) -> str:
    """Post a reply as ``user`` through the HTML form, let a moderator approve it if it was held,
    and return the author's name as the public JSON API gives it to anyone."""
    from speakout.discussion import services
    from tests.security.claims import KEY

    client = fresh_client()
    client.force_login(user)
    answer = send("form", client, body="What I saw at the meeting.", **fields)
    assert answer.reply_id is not None, answer
    reply = Reply.objects.get(pk=answer.reply_id)
    if reply.status != Reply.Status.APPROVED:
        services.set_status(reply, Reply.Status.APPROVED)
    listing = Client().get(f"/api/threads/{KEY}")
    assert listing.status_code == 200, listing.content[:300]
    body = listing.json()
    items = body["replies"] if isinstance(body, dict) else body
    return next(item for item in items if item["id"] == reply.pk)["author_name"]


@pytest.mark.parametrize("claims", CLAIMS.values(), ids=CLAIMS.keys())
def test_a_provider_sign_up_asks_for_the_public_name_and_suggests_none_of_the_provider_s(claims):
    """No account is made from what the provider sent: the person is asked for the name shown on
    their replies, and the field is empty, whatever name or address the provider gave."""
    browser, next_page = provider_callback(claims)
    assert next_page == reverse("socialaccount_signup"), f"signed up at once, sent to {next_page}"
    assert not get_user_model().objects.exists()
    page = browser.get(next_page)
    assert page.status_code == 200
    assert not page.context["form"]["username"].value()
    html = page.content.decode()
    assert "Name shown on your replies" in html and "need not be your real name" in html
    assert 'class="site-header"' in html, "the page is in the site's theme"
    assert "Rosa" not in html and "Kowalska" not in html


def test_the_name_the_person_chooses_is_the_only_name_their_replies_show(site):
    """Signed up under a chosen name, the account keeps none of the provider's names (they would
    be its public name) and its replies show the chosen one."""
    browser, next_page = provider_callback(CLAIMS["legal name"])
    done = browser.post(next_page, {"username": "Night Owl", "email": ADDRESS})
    assert done.status_code == 302 and done["Location"] == "/", "the provider vouched for the address"
    user = get_user_model().objects.get()
    assert (user.username, user.first_name, user.last_name) == ("Night Owl", "", "")
    assert public_name_of_a_reply_by(user, site) == "Night Owl"


@pytest.mark.parametrize("name", [ADDRESS, "rosa.k", "Rosa.K 1990"])
def test_the_provider_sign_up_refuses_a_name_that_gives_away_the_address(name):
    browser, next_page = provider_callback(CLAIMS["address only"])
    page = browser.post(next_page, {"username": name, "email": ADDRESS})
    assert page.status_code == 200
    assert "This name gives away your email address." in page.content.decode()
    assert not get_user_model().objects.exists()


def test_the_provider_sign_up_refuses_a_staff_member_s_name_without_saying_whose():
    get_user_model().objects.create_user(
        "dana", "dana@example.org", "x", is_staff=True, first_name="Dana", last_name="Lind"
    )
    browser, next_page = provider_callback(CLAIMS["address only"])
    page = browser.post(next_page, {"username": "Dana Lind", "email": ADDRESS}).content.decode()
    assert "That name cannot be used here." in page and "staff" not in page.lower()
    assert get_user_model().objects.count() == 1


def test_provider_sign_up_refusals_spend_the_sign_up_limit(settings):
    """A taken name is refused as "cannot be used"; every try spends the sign-up limit, as on the
    site's own sign-up form, so the form cannot list usernames by guessing."""
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "signup": "3/m/ip"}
    cache.clear()
    for name in ("kestrel", "osprey", "merlin", "hobby"):
        get_user_model().objects.create_user(name, f"{name}@example.net", "pw-long-enough-1")
    browser, next_page = provider_callback(CLAIMS["address only"])
    taken = ("kestrel", "osprey", "merlin")
    answers = [browser.post(next_page, {"username": name, "email": ADDRESS}) for name in taken]
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert "cannot be used" in answers[0].content.decode()
    assert browser.post(next_page, {"username": "hobby", "email": ADDRESS}).status_code == 429
    cache.clear()
