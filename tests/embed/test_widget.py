"""The widget's size budget, and the sign-in window that hands a token to an allowed page."""

from __future__ import annotations

import gzip
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.test import Client

from speakout.embed.middleware import SIGNIN_COOKIE
from speakout.embed.tokens import read_user_token
from tests.embed.helpers import OTHER, SITE

STATIC = Path(__file__).resolve().parents[2] / "speakout" / "embed" / "static" / "embed"
BUDGET = 15 * 1024


def test_the_widget_script_and_styles_stay_under_15_kb_gzipped():
    payload = (STATIC / "embed.js").read_bytes() + (STATIC / "embed.css").read_bytes()
    size = len(gzip.compress(payload, compresslevel=9))
    assert size < BUDGET, f"embed.js + embed.css are {size} bytes gzipped; the budget is {BUDGET}"


@pytest.mark.django_db
def test_signing_in_sends_a_stranger_to_the_login_page_and_back(allowed_site):
    response = Client().get("/embed/signin/", {"origin": SITE})
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert target.path == settings.LOGIN_URL
    assert parse_qs(target.query)["next"] == [f"/embed/signin/?origin={SITE.replace(':', '%3A').replace('/', '%2F')}"]
    assert SIGNIN_COOKIE in response.cookies


@pytest.mark.django_db
def test_a_signed_in_reader_gets_a_token_for_the_allowed_origin_only(allowed_site, django_user_model):
    user = django_user_model.objects.create_user("kai", "kai@example.org", "pw")
    browser = Client()
    browser.force_login(user)
    browser.cookies[SIGNIN_COOKIE] = "1"
    response = browser.get("/embed/signin/", {"origin": SITE})
    assert response.status_code == 200
    assert response["Cross-Origin-Opener-Policy"] == "unsafe-none", "the opener on another origin stays reachable"
    html = response.content.decode()
    token = html.split('data-token="', 1)[1].split('"', 1)[0]
    assert f'data-origin="{SITE}"' in html
    assert read_user_token(token, SITE) == user
    assert read_user_token(token, OTHER) is None
    assert browser.get("/embed/signin/", {"origin": OTHER}).status_code == 400
    # Changing the password voids the tokens handed out before.
    user.set_password("another")
    user.save()
    assert read_user_token(token, SITE) is None


@pytest.mark.django_db
def test_a_token_issued_before_the_sign_out_counter_is_refused(django_user_model):
    """Tokens from before the upgrade carry no sign-out counter ("v"): refused, not trusted."""
    from django.core import signing

    from speakout.embed import tokens

    user = django_user_model.objects.create_user("kai", "kai@example.org", "pw")
    current = signing.loads(tokens.sign_user_token(user, SITE), salt=tokens._SALT)
    assert read_user_token(signing.dumps(current, salt=tokens._SALT), SITE) == user
    del current["v"]
    assert read_user_token(signing.dumps(current, salt=tokens._SALT), SITE) is None


@pytest.mark.django_db
def test_the_login_pages_keep_the_opener_only_during_a_sign_in(db):
    assert Client().get("/")["Cross-Origin-Opener-Policy"] == "same-origin"
    during = Client()
    during.cookies[SIGNIN_COOKIE] = "1"
    assert during.get("/")["Cross-Origin-Opener-Policy"] == "unsafe-none"
