"""Site accounts through allauth: sign up, verify by the mail in the outbox, sign in; errors
that give nothing away; rate limits that trip and recover; ``next`` kept on the site."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.urls import reverse

from speakout.outbox.models import OutgoingMail

pytestmark = pytest.mark.django_db


def confirmation_link(mail: OutgoingMail) -> str:
    match = re.search(r"https?://[^\s\"<]+/accounts/confirm-email/[^\s\"<]+", mail.text_body)
    assert match, mail.text_body
    return urlsplit(match.group(0)).path


def test_sign_up_verify_by_the_mail_in_the_outbox_then_sign_in(client):
    response = client.post(
        reverse("account_signup"),
        {
            "username": "heron",
            "email": "maya@example.org",
            "password1": "rivers run to the sea 7",
            "password2": "rivers run to the sea 7",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    mail = OutgoingMail.objects.get(to="maya@example.org")
    assert "/accounts/confirm-email/" in mail.text_body
    client.logout()
    # Not verified yet: mandatory verification refuses the login and sends no second account.
    response = client.post(reverse("account_login"), {"login": "heron", "password": "rivers run to the sea 7"})
    assert response.status_code == 302 and response["Location"] == reverse("account_email_verification_sent")

    link = confirmation_link(OutgoingMail.objects.filter(to="maya@example.org").order_by("pk").first())
    page = client.get(link)
    assert page.status_code == 200
    assert b"maya@example.org" in page.content
    client.post(link)
    response = client.post(reverse("account_login"), {"login": "heron", "password": "rivers run to the sea 7"})
    assert response.status_code == 302
    assert client.get(reverse("identity:account")).status_code == 200


def test_account_pages_use_the_site_theme(client, user_factory):
    user, _password = user_factory()
    client.force_login(user)
    page = client.get(reverse("identity:account")).content.decode()
    assert 'class="site-header"' in page and "/static/identity/identity.css" in page
    for name in ("account_email", "account_change_password", "mfa_index", "socialaccount_connections"):
        assert reverse(name) in page
    # The other apps' pages for the account holder: replies, subscriptions, deletion.
    for name in ("privacy:account", "subscriptions:mine", "privacy:delete_account"):
        assert f'href="{reverse(name)}"' in page
    login_page = client.get(reverse("account_login"))
    assert login_page.status_code in (200, 302)


def test_wrong_password_is_a_clear_error_and_keeps_the_login(client, user_factory):
    user_factory()
    response = client.post(reverse("account_login"), {"login": "ada", "password": "not it"})
    assert response.status_code == 200
    text = response.content.decode()
    assert "not correct" in text
    assert 'value="ada"' in text


def test_sign_up_with_a_taken_email_looks_like_a_new_one(client, user_factory):
    user_factory(email="taken@example.org")
    responses = []
    for username, email in (("wren", "fresh@example.org"), ("copycat", "taken@example.org")):
        client.logout()
        responses.append(
            client.post(
                reverse("account_signup"),
                {
                    "username": username,
                    "email": email,
                    "password1": "p4ss phrase long",
                    "password2": "p4ss phrase long",
                },
            )
        )
    assert [r.status_code for r in responses] == [302, 302]
    assert responses[0]["Location"] == responses[1]["Location"]
    # The owner of the taken address is told, by mail, that someone tried.
    assert OutgoingMail.objects.filter(to="taken@example.org").count() == 1


@pytest.mark.parametrize(
    ("username", "message"),
    [
        ("maya.r@example.org", "This name gives away your email address."),
        ("maya.r", "This name gives away your email address."),
        ("Maya.R 1990", "This name gives away your email address."),
        ("Dana Lind", "That name cannot be used here."),
    ],
)
def test_sign_up_refuses_a_username_that_is_the_address_or_a_staff_name(client, username, message):
    """The username is the name the account's replies show: neither the address (nor its local
    part) nor a staff member's name, refused as on the pseudonym form, with what was typed kept."""
    get_user_model().objects.create_user(
        "dana", "dana@example.org", "x", is_staff=True, first_name="Dana", last_name="Lind"
    )
    response = client.post(
        reverse("account_signup"),
        {
            "username": username,
            "email": "maya.r@example.org",
            "password1": "rivers run to the sea 7",
            "password2": "rivers run to the sea 7",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html and 'value="maya.r@example.org"' in html
    assert get_user_model().objects.count() == 1 and not OutgoingMail.objects.exists()


def test_password_reset_gives_the_same_answer_for_known_and_unknown_addresses(client, user_factory):
    user_factory(email="known@example.org")
    known = client.post(reverse("account_reset_password"), {"email": "known@example.org"})
    unknown = client.post(reverse("account_reset_password"), {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == reverse("account_reset_password_done")
    assert OutgoingMail.objects.filter(to="known@example.org").count() == 1
    assert not OutgoingMail.objects.filter(to="nobody@example.org").exists(), "nothing sent to unknown addresses"


def test_failed_logins_are_rate_limited_and_recover(client, user_factory):
    user_factory()
    for _attempt in range(5):
        response = client.post(reverse("account_login"), {"login": "ada", "password": "wrong"})
        assert "not correct" in response.content.decode()
    # The limit (5 failures per account in 5 minutes) is reached: even the right password waits.
    blocked = client.post(reverse("account_login"), {"login": "ada", "password": "a long passphrase 42"})
    assert "Too many failed login attempts" in blocked.content.decode()
    assert "_auth_user_id" not in client.session
    cache.clear()  # the window passes (the counters live in the shared cache)
    allowed = client.post(reverse("account_login"), {"login": "ada", "password": "a long passphrase 42"})
    assert allowed.status_code == 302
    assert "_auth_user_id" in client.session


def test_login_page_requests_are_rate_limited_per_client(client, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "3/m/ip"}
    statuses = [client.post(reverse("account_login"), {"login": "x", "password": "y"}).status_code for _ in range(4)]
    assert statuses[:3] == [200, 200, 200]
    assert statuses[3] == 429
    cache.clear()
    assert client.post(reverse("account_login"), {"login": "x", "password": "y"}).status_code == 200


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "http://evil.example@testserver.evil/"])
def test_login_refuses_an_off_site_next(client, user_factory, target):
    user_factory()
    response = client.post(
        reverse("account_login"), {"login": "ada", "password": "a long passphrase 42", "next": target}
    )
    assert response.status_code == 302
    assert urlsplit(response["Location"]).netloc in ("", "testserver")
    assert "evil" not in response["Location"]


def test_login_keeps_an_on_site_next_with_its_reply_position(client, user_factory):
    user_factory()
    target = "/reports/some-report/?replyto=12#respond"
    response = client.post(
        reverse("account_login"), {"login": "ada", "password": "a long passphrase 42", "next": target}
    )
    assert response["Location"] == target


def test_switch_page_offers_guest_account_and_providers_and_checks_next(client, user_factory):
    user, _password = user_factory()
    client.force_login(user)
    page = client.get(reverse("identity:switch"), {"next": "/reports/x/#respond"}).content.decode()
    assert "Continue as a guest" in page and 'value="/reports/x/#respond"' in page
    evil = client.get(reverse("identity:switch"), {"next": "https://evil.example/"}).content.decode()
    assert 'name="next" value="https://evil.example/"' not in evil
    assert 'name="next" value="/"' in evil


def test_logout_is_a_post_and_returns_to_next(client, user_factory):
    user, _password = user_factory()
    client.force_login(user)
    response = client.post(reverse("account_logout"), {"next": "/reports/x/#respond"})
    assert response.status_code == 302 and response["Location"] == "/reports/x/#respond"
    assert "_auth_user_id" not in client.session


def test_superuser_made_by_the_operator_can_sign_in_without_verifying(client):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("root", "root@example.org", "a long passphrase 42")
    response = client.post(reverse("account_login"), {"login": "root", "password": "a long passphrase 42"})
    assert response.status_code == 302 and response["Location"] == "/"


def test_sign_up_can_be_closed(client, settings):
    settings.SPEAKOUT_ACCOUNT_SIGNUP_OPEN = False
    response = client.post(
        reverse("account_signup"),
        {
            "username": "late",
            "email": "late@example.org",
            "password1": "p4ss phrase long",
            "password2": "p4ss phrase long",
        },
    )
    assert response.status_code == 200
    assert "closed" in response.content.decode().lower()
    assert not OutgoingMail.objects.exists()
