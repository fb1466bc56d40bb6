"""Cookies a sibling subdomain cannot plant. Without a prefix, a page on x.example.org can set
``sessionid`` or the guest cookie for example.org (``Domain=example.org``): the reader is then
signed in as the planter, or their replies are filed under the planter's guest token (whose
holder sees them, held ones included, as their own). With Secure cookies (production) the names
carry "__Host-", which a browser accepts only from the host itself: Secure, ``Path=/``, no
``Domain``. These tests hold the names and those three attributes, without which a browser would
drop the cookie and nobody could sign in or keep their guest token."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from speakout.discussion import app_settings as discussion_settings
from speakout.discussion.clients import read_guest_token
from speakout.discussion.models import Reply
from tests.discussion.helpers import form_data

ROOT = Path(__file__).resolve().parents[2]
IMPORTS = (
    "from django.conf import settings; from django.http import HttpRequest;"
    " from django.utils.module_loading import import_string;"
    " from speakout.discussion import app_settings as discussion"
)
HOST_COOKIES = {"SESSION_COOKIE_NAME": "__Host-sessionid", "CSRF_COOKIE_NAME": "__Host-csrftoken"}


def _production_setting(tmp_path, expression: str) -> str:
    env = {key: value for key, value in os.environ.items() if key not in ("DJANGO_SETTINGS_MODULE",)}
    env.update(
        SPEAKOUT_DATA_DIR=str(tmp_path), SPEAKOUT_ENV="production", SPEAKOUT_ALLOWED_HOSTS="reports.example.org",
        SPEAKOUT_SECRET_KEY="x" * 20 + "a-long-random-production-secret-value-1234567890",
    )  # fmt: skip
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "shell", "-c", f"{IMPORTS}; print(repr(({expression})))"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]  # after the shell's own line about its imports


def test_production_names_its_cookies_for_this_host_only(tmp_path):
    names = _production_setting(
        tmp_path,
        "settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME, discussion.GUEST_COOKIE_NAME,"
        " import_string(settings.MESSAGE_STORAGE)(type('R', (HttpRequest,), {'session': {}})())"
        ".storages[0].cookie_name",
    )
    assert names == "('__Host-sessionid', '__Host-csrftoken', '__Host-speakout_guest', '__Host-messages')"


@pytest.fixture
def production_cookies(settings):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    for name, value in HOST_COOKIES.items():
        setattr(settings, name, value)


def _meets_the_host_prefix(cookie) -> None:
    assert cookie["secure"] and cookie["path"] == "/" and not cookie["domain"], cookie.output()


@pytest.mark.django_db
def test_a_guest_keeps_their_token_under_the_host_name(production_cookies, thread, rules):
    assert discussion_settings.GUEST_COOKIE_NAME == "__Host-speakout_guest"
    writer = Client()
    response = writer.post("/discussion/post/", form_data(thread), secure=True)
    assert response.status_code == 303
    cookie = response.cookies["__Host-speakout_guest"]
    _meets_the_host_prefix(cookie)
    assert "speakout_guest" not in response.cookies, "only the name a sibling cannot plant"
    reply = Reply.objects.get()

    class Request:
        COOKIES = {"__Host-speakout_guest": cookie.value}
        headers: dict[str, str] = {}

    assert read_guest_token(Request()) and reply.guest_key

    class Planted:  # the name without the prefix, as a sibling subdomain could set it
        COOKIES = {"speakout_guest": cookie.value}
        headers: dict[str, str] = {}

    assert read_guest_token(Planted()) == ""


@pytest.mark.django_db
def test_signing_in_sets_the_session_under_the_host_name(production_cookies):
    from allauth.account.models import EmailAddress

    user = get_user_model().objects.create_user("robin", "robin@example.org", "a long and private passphrase")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    reader = Client()
    response = reader.post(
        "/accounts/login/", {"login": "robin", "password": "a long and private passphrase"}, secure=True
    )
    assert response.status_code == 302, response.content.decode()[:300]
    _meets_the_host_prefix(response.cookies["__Host-sessionid"])
    assert "sessionid" not in response.cookies
    assert reader.get("/accounts/email/", secure=True).status_code == 200, "the session is read back"


@pytest.mark.django_db
def test_messages_go_under_the_host_name_and_a_planted_one_is_not_shown(production_cookies):
    """Django's ``messages`` cookie is signed, but not bound to a reader: a sibling subdomain
    could plant one the site signed for the planter (allauth's "Successfully signed in as NAME",
    with a name the planter chose) and the reader would see it as the site's word."""
    from allauth.account.models import EmailAddress

    planter = get_user_model().objects.create_user("Call 555 0100 to unlock", "eve@example.org", "a long passphrase!")
    EmailAddress.objects.create(user=planter, email=planter.email, verified=True, primary=True)
    response = Client().post(
        "/accounts/login/", {"login": planter.username, "password": "a long passphrase!"}, secure=True
    )
    assert response.status_code == 302
    cookie = response.cookies["__Host-messages"]
    _meets_the_host_prefix(cookie)
    assert "messages" not in response.cookies, "only the name a sibling cannot plant"

    reader = Client()
    reader.force_login(get_user_model().objects.create_user("robin", "robin@example.org"))
    reader.cookies["messages"] = cookie.value  # as x.example.org could set it for example.org
    page = reader.get("/accounts/email/", secure=True)
    assert page.status_code == 200
    assert "555 0100" not in page.content.decode()

    reader.cookies["__Host-messages"] = cookie.value  # the real name is read: the test can fail
    assert "555 0100" in reader.get("/accounts/email/", secure=True).content.decode()
