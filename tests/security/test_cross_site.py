"""Cross-site request forgery: every unsafe request a browser sends from another site is refused,
whoever is signed in, and no refusal hands the attacker's fields back with a fresh token.

The browser's own headers decide (Fetch Metadata, as Go's ``http.CrossOriginProtection``):
``Sec-Fetch-Site: same-origin`` or ``none`` passes, ``cross-site`` and ``same-site`` are refused
unless the origin is trusted; without ``Sec-Fetch-Site`` the ``Origin`` is compared with the
site's own; a request with neither header meets Django's token check.
"""

from __future__ import annotations

import re
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import OperationalError
from django.test import Client

from speakout.discussion.forms import issue_form_token
from speakout.discussion.models import DiscussionSettings, Reply, Thread

EVIL = "https://evil.example"
OWN = "http://testserver"
EMBEDDING_SITE = "https://blog.example.org"
# A fill marker as the page cache used to put in every cached page, signed by the site: the
# attacker copies it from any public page.
CSRF_MARKER = "fill:" + signing.Signer(salt="speakout.pagecache.fill").sign_object(["csrf"])


@pytest.fixture
def report(site_builder, settings):
    settings.SPEAKOUT_DISCUSSION_MIN_SECONDS_TO_SUBMIT = 0
    settings.SPEAKOUT_DISCUSSION_SECONDS_BETWEEN_REPLIES = 0
    rules = DiscussionSettings.load()
    rules.hold_first_reply = False
    rules.save()
    return site_builder.report("Rents in the old town")


@pytest.fixture
def admin(db):
    return get_user_model().objects.create_superuser("boss", "boss@example.org", "a long pass phrase")


def strict_client(user=None) -> Client:
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    return client


def reply_form(report, body: str) -> dict:
    thread = Thread.objects.get(key=report.thread_key)
    return {
        "thread": thread.key,
        "name": "Ada",
        "email": "ada@example.org",
        "body": body,
        "form_token": issue_form_token(thread.key),
    }


def test_a_cross_site_post_with_a_fill_marker_never_lands_on_a_form_with_a_fresh_token(admin):
    """The one-click takeover: a cross-site form carrying a fill marker, sent by a signed-in
    administrator's browser, must not come back as a page of this site holding the attacker's
    fields and a valid token (one press of Send would create the attacker's superuser)."""
    client = strict_client(admin)
    fields = {
        "csrfmiddlewaretoken": CSRF_MARKER,
        "username": "mallory",
        "email": "mallory@evil.example",
        "first_name": "Mal",
        "last_name": "Lory",
        "password1": "an attacker's pass phrase",
        "password2": "an attacker's pass phrase",
        "is_superuser": "on",
    }
    for headers in ({"Sec-Fetch-Site": "cross-site", "Origin": EVIL}, {"Origin": EVIL}, {}):
        response = client.post("/admin/users/new/", fields, headers=headers)
        assert response.status_code == 403, headers
        shown = response.content.decode()
        assert "mallory" not in shown and "csrfmiddlewaretoken" not in shown, headers
        assert "csrftoken" not in response.cookies or not response.cookies["csrftoken"].value, headers
    assert not get_user_model().objects.filter(username="mallory").exists()


def database_down(*args, **kwargs):
    raise OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')


FORGED_ADMIN_USER = {
    "username": "mallory",
    "email": "mallory@evil.example",
    "password1": "an attacker's pass phrase",
    "password2": "an attacker's pass phrase",
    "is_superuser": "on",
}


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site", "Origin": EVIL},
        {"Sec-Fetch-Site": "same-site", "Origin": "https://other.testserver"},
        {"Origin": EVIL},
        {"Origin": "null"},
        {},  # neither header, and no token
    ],
    ids=["cross-site", "same-site", "foreign-origin", "null-origin", "no-headers"],
)
@pytest.mark.parametrize(
    "path, fields",
    [
        # The admin's second-factor check reads the session before the cross-site check runs.
        ("/admin/users/new/", FORGED_ADMIN_USER),
        # The embed's allow-list is read before it too.
        (f"/embed/thread/post/?url={EMBEDDING_SITE}/a/", {"thread": "/a/", "body": "Forged words."}),
    ],
    ids=["admin-user", "embed-reply"],
)
def test_a_cross_site_post_met_by_a_database_outage_gets_no_form_to_send_again(admin, settings, path, fields, headers):
    """The one-click takeover by way of the 503 page: a forged post that fails on the database
    before it is judged must not come back as "Send again" holding the attacker's fields and a
    valid token (one press by the administrator would send them from this site)."""
    settings.SPEAKOUT_STAFF_REQUIRE_MFA = True
    settings.SPEAKOUT_EMBED_ORIGINS = [EMBEDDING_SITE]
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.force_login(admin)
    with (
        mock.patch("django.contrib.sessions.backends.db.SessionStore.load", side_effect=database_down),
        mock.patch("speakout.embed.origins._load", side_effect=database_down),
    ):
        response = client.post(path, fields, headers=headers)
    shown = response.content.decode()
    assert response.status_code in (403, 503)
    assert "csrfmiddlewaretoken" not in shown
    assert "Send again" not in shown
    assert "mallory" not in shown and "Forged words." not in shown
    assert "csrftoken" not in response.cookies or not response.cookies["csrftoken"].value


def test_a_same_origin_post_met_by_a_database_outage_still_gets_its_fields_back(admin, settings):
    """The 503 page keeps what an administrator typed on the site's own pages."""
    settings.SPEAKOUT_STAFF_REQUIRE_MFA = True
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.force_login(admin)
    with mock.patch("django.contrib.sessions.backends.db.SessionStore.load", side_effect=database_down):
        response = client.post(
            "/admin/users/new/", {"username": "robin"}, headers={"Sec-Fetch-Site": "same-origin", "Origin": OWN}
        )
    shown = response.content.decode()
    assert response.status_code == 503
    assert 'name="username" value="robin"' in shown
    assert "csrfmiddlewaretoken" in shown


@pytest.mark.parametrize("signed_in", [False, True], ids=["guest", "signed-in"])
@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site", "Origin": EVIL},
        {"Sec-Fetch-Site": "same-site", "Origin": "https://other.testserver"},
        {"Sec-Fetch-Site": "cross-site"},  # Origin withheld: still refused
        {"Origin": EVIL},  # an older browser: no Sec-Fetch-Site, a foreign Origin
        {"Origin": "null"},  # an opaque origin (a sandboxed frame)
        {},  # neither header: Django's token check, and no token was sent
    ],
    ids=["cross-site", "same-site", "cross-site-no-origin", "foreign-origin", "null-origin", "no-headers"],
)
def test_forged_posts_are_refused_for_guests_and_signed_in_readers(report, admin, signed_in, headers):
    client = strict_client(admin if signed_in else None)
    response = client.post("/discussion/post/", reply_form(report, "Forged words."), headers=headers)
    assert response.status_code == 403
    assert "Forged words." not in response.content.decode()
    assert not Reply.objects.filter(body="Forged words.").exists()


@pytest.mark.parametrize("signed_in", [False, True], ids=["guest", "signed-in"])
@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "same-origin", "Origin": OWN},
        {"Sec-Fetch-Site": "same-origin"},
        {"Sec-Fetch-Site": "none"},  # typed or bookmarked by the reader
        {"Origin": OWN},  # an older browser sending only Origin
    ],
    ids=["same-origin", "same-origin-no-origin", "user-initiated", "own-origin"],
)
def test_same_origin_posts_need_no_token(report, admin, signed_in, headers):
    client = strict_client(admin if signed_in else None)
    body = f"Own words {signed_in} {sorted(headers.items())}."
    response = client.post("/discussion/post/", reply_form(report, body), headers=headers)
    assert response.status_code == 303, response.content[:500]
    assert Reply.objects.filter(body=body).count() == 1


def test_without_either_header_the_token_is_checked(report):
    client = strict_client()
    html = client.get(f"{report.url}?replies=newest").content.decode()  # rendered for this reader
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    form = {**reply_form(report, "Sent by an old client."), "csrfmiddlewaretoken": token}
    assert client.post("/discussion/post/", form).status_code == 303
    assert Reply.objects.filter(body="Sent by an old client.").count() == 1


def test_trusted_origins_may_post_cross_site(report, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://partner.example"]
    client = strict_client()
    headers = {"Sec-Fetch-Site": "cross-site", "Origin": "https://partner.example"}
    assert client.post("/discussion/post/", reply_form(report, "From a partner."), headers=headers).status_code == 303
    headers = {"Sec-Fetch-Site": "cross-site", "Origin": "https://partner.example.evil.example"}
    assert client.post("/discussion/post/", reply_form(report, "Not a partner."), headers=headers).status_code == 403


def test_cached_pages_carry_no_csrf_token_or_marker(report):
    """A stored page needs no per-reader token now: nothing in it stands for one."""
    reader = Client()
    reader.get(report.url)
    html = reader.get(report.url).content.decode()
    assert "csrfmiddlewaretoken" not in html
    assert CSRF_MARKER not in html


@pytest.mark.parametrize("path", ["/admin/logout/", "/accounts/logout/"])
def test_a_link_from_another_site_signs_nobody_out(admin, path):
    """Signing out takes a POST: a link, redirect or refresh from another site that opens the
    logout address leaves the reader signed in. (Wagtail's own logout view dropped the session
    cookie whatever the method, even as it answered a GET with 405.)"""
    client = strict_client(admin)
    response = client.get(path, headers={"Sec-Fetch-Site": "cross-site"})
    assert "sessionid" not in response.cookies or response.cookies["sessionid"].value
    assert client.get("/accounts/").status_code == 200


def test_the_admin_s_log_out_button_still_signs_out(admin):
    client = strict_client(admin)
    response = client.post("/admin/logout/", headers={"Sec-Fetch-Site": "same-origin", "Origin": OWN})
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
