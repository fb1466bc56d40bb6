"""Staff: one login (allauth's) for the admin too, MFA required when SPEAKOUT_STAFF_REQUIRE_MFA
is on, and login providers managed in the Wagtail admin."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialApp
from django.contrib.auth import get_user_model
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_superuser("chief", "chief@example.org", "a long passphrase 42")


def test_admin_login_hands_over_to_the_site_login(client):
    response = client.get("/admin/login/", {"next": "/admin/pages/"})
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert target.path == reverse("account_login")
    assert parse_qs(target.query)["next"] == ["/admin/pages/"]
    evil = client.get("/admin/login/", {"next": "https://evil.example/"})
    assert parse_qs(urlsplit(evil["Location"]).query)["next"] == ["/admin/"]
    # An anonymous visit to the admin goes to the same login.
    anonymous = client.get("/admin/")
    assert urlsplit(anonymous["Location"]).path == reverse("account_login")


def test_admin_login_post_cannot_bypass_allauth(client, staff):
    response = client.post("/admin/login/", {"username": "chief", "password": "a long passphrase 42"})
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_mfa_is_required_for_staff_when_set(client, staff, settings):
    settings.SPEAKOUT_STAFF_REQUIRE_MFA = True
    client.force_login(staff)
    response = client.get("/admin/pages/")
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert target.path == reverse("mfa_index")
    assert parse_qs(target.query)["next"] == ["/admin/pages/"]
    # The public site still serves them.
    assert client.get(reverse("identity:account")).status_code == 200
    # Recovery codes alone are not enough; a TOTP authenticator is.
    Authenticator.objects.create(user=staff, type=Authenticator.Type.RECOVERY_CODES, data={})
    assert client.get("/admin/").status_code == 302
    Authenticator.objects.create(user=staff, type=Authenticator.Type.TOTP, data={"secret": "x"})
    assert client.get("/admin/").status_code == 200


def test_mfa_is_not_required_when_unset(client, staff, settings):
    settings.SPEAKOUT_STAFF_REQUIRE_MFA = False
    client.force_login(staff)
    assert client.get("/admin/").status_code == 200


def test_mfa_requirement_leaves_readers_alone(client, user_factory, settings):
    settings.SPEAKOUT_STAFF_REQUIRE_MFA = True
    user, _password = user_factory()
    client.force_login(user)
    response = client.get("/admin/")
    assert urlsplit(response.get("Location", "")).path != reverse("mfa_index")


def test_staff_with_totp_must_give_a_code_at_login(client, staff):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    TOTP.activate(staff, generate_totp_secret())
    response = client.post(reverse("account_login"), {"login": "chief", "password": "a long passphrase 42"})
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session


def test_login_providers_are_managed_in_the_wagtail_admin(client, staff):
    client.force_login(staff)
    listing = client.get("/admin/login-providers/")
    assert listing.status_code == 200
    bad = client.post(
        "/admin/login-providers/new/",
        {
            "provider": "openid_connect",
            "provider_id": "",
            "name": "Org ID",
            "client_id": "abc",
            "secret": "s",
            "key": "",
            "settings": "{}",
        },
    )
    assert bad.status_code == 200 and not SocialApp.objects.exists()
    good = client.post(
        "/admin/login-providers/new/",
        {
            "provider": "openid_connect",
            "provider_id": "org-id",
            "name": "Org ID",
            "client_id": "abc",
            "secret": "s",
            "key": "",
            "settings": '{"server_url": "https://id.example.org"}',
        },
    )
    assert good.status_code == 302
    app = SocialApp.objects.get()
    assert app.provider_id == "org-id" and app.settings == {"server_url": "https://id.example.org"}
