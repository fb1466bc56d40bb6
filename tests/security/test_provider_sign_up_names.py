"""Review of accounts: what name a signed-in account's reply shows publicly.

``discussion.services.display_name_for`` shows an account's full name, else its username. The
pseudonym form refuses a name that gives away the address (``identity.forms.PseudonymSignupForm``);
these tests check the other ways an account comes to exist. Each failing test shows a path
where the public name of a reply is the person's email address, or its local part, without the
person ever typing a name."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.middleware import SessionMiddleware
from django.test import RequestFactory

from speakout.discussion.models import Reply
from tests.security.claims import fresh_client, send

pytestmark = pytest.mark.django_db


def provider_sign_up(claims: dict):
    """What allauth's OpenID Connect callback does once the provider has answered with ``claims``
    (the ID token / userinfo): build the social login and complete it. Returns the new user."""
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
    request = RequestFactory().get("/accounts/oidc/org-id/login/callback/")
    SessionMiddleware(lambda r: None).process_request(request)
    request.session.save()
    request.user = AnonymousUser()
    request._messages = FallbackStorage(request)
    with context.request_context(request):
        login = app.get_provider(request).sociallogin_from_response(request, claims)
        login.state = {"process": "login", "next": "/"}
        response = complete_social_login(request, login)
    # Signed up and signed in at once (the provider vouched for the address): no form was shown,
    # so the person never typed or saw a name field.
    assert response.status_code == 302 and response["Location"] == "/"
    assert login.user.pk is not None
    return login.user


def public_name_of_a_reply_by(user, site, **fields) -> str:
    """Post a reply as ``user`` through the HTML form, let a moderator approve it if it was held,
    and return the author's name as the public JSON API gives it to anyone."""
    from django.test import Client

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


def test_a_provider_sign_up_without_a_name_does_not_show_the_address_s_local_part(site):
    # Many OpenID Connect providers (and Google or GitHub accounts with no public name) send an
    # address and no name: allauth's populate_username then makes the username from the
    # address's local part, and that username is the reply's public name. The personal-data
    # guard sees nothing in "lena.m", so the reply is published at once under it.
    user = provider_sign_up({"sub": "1001", "email": "lena.m@example.org", "email_verified": True})
    assert not user.get_full_name()
    name = public_name_of_a_reply_by(user, site)
    assert "lena.m" not in name.lower(), f"the reply is signed {name!r}, the address's local part"


def test_a_provider_whose_preferred_username_is_the_address_does_not_publish_the_address(site):
    # Keycloak ("Email as username"), Azure AD / Entra and many company IdPs send the address as
    # ``preferred_username``. allauth keeps it as the username because the site's username
    # validator allows "@" and ".", so the account's public name is the whole address. The
    # personal-data guard then refuses every reply over a name the person cannot change (a
    # signed-in reader has no name field); "Post anyway" holds it, and once a moderator approves
    # the text the address is public.
    user = provider_sign_up(
        {
            "sub": "1002",
            "email": "rosa.k@example.org",
            "email_verified": True,
            "preferred_username": "rosa.k@example.org",
        }
    )
    name = public_name_of_a_reply_by(user, site, confirm="personal_data")
    assert "@" not in name and "rosa.k" not in name.lower(), f"the reply is signed {name!r}"
