"""Account pages read like the rest of the site: the site's form layout (no colons, the label
above its field, a box beside its label), a page title that matches its heading, plain words,
and a pseudonym may have spaces."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

pytestmark = pytest.mark.django_db


def title_and_heading(html: str) -> tuple[str, str]:
    title = re.search(r"<title>(.*?) · ", html, re.S).group(1).strip()
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S).group(1).strip()
    return title, heading


@pytest.mark.parametrize(
    "url_name", ["account_login", "account_signup", "account_reset_password", "identity:pseudonym"]
)
def test_entrance_pages_use_the_site_form_layout(client, url_name):
    html = client.get(reverse(url_name)).content.decode()
    title, heading = title_and_heading(html)
    assert title == heading, f"page title {title!r} but heading {heading!r}"
    assert heading == heading[:1] + heading[1:].lower(), f"sentence case, not {heading!r}"
    assert '<div class="field' in html, "the site's field layout"
    labels = re.findall(r"<label [^>]*>(.*?)</label>", html, re.S)
    assert labels and not any(label.strip().endswith(":") for label in labels), labels
    assert 'class="form-actions"' in html
    for described in re.findall(r'aria-describedby="([^"]+)"', html):
        for id_ in described.split():
            assert f'id="{id_}"' in html, f"aria-describedby names a missing id {id_!r}"


def test_login_speaks_plainly_and_its_checkbox_sits_with_its_label(client):
    html = client.get(reverse("account_login")).content.decode()
    assert "Remember Me" not in html
    box = re.search(r'<div class="field field--checkbox[^>]*>(.*?)</div>', html, re.S).group(1)
    assert 'type="checkbox"' in box and "Keep me signed in on this device</label>" in box


def test_signup_errors_are_summarised_and_sit_under_their_fields(client):
    response = client.post(
        reverse("account_signup"), {"username": "", "email": "x", "password1": "a", "password2": "b"}
    )
    html = response.content.decode()
    assert '<div class="error-summary"' in html
    field = re.search(r'<div class="field field--error" data-field="email">(.*?)</div>', html, re.S).group(1)
    assert field.index("<input") < field.index('class="field__error"'), "the error follows its field"


def test_verification_sent_is_in_the_site_voice(client):
    html = client.get(reverse("account_email_verification_sent")).content.decode()
    assert "finalize the signup process" not in html
    assert "Check your email" in html


def test_a_pseudonym_may_have_spaces_but_not_stray_ones(client):
    response = client.post(reverse("identity:pseudonym"), {"username": "Night Owl", "email": "dawn@example.org"})
    html = response.content.decode()
    assert response.status_code == 302, re.findall(r'class="field__error"[^>]*>([^<]*)<|<li>([^<]*)</li>', html)
    assert get_user_model().objects.filter(username="Night Owl").exists()
    for stray in ("Night  Owl", "Dawn\tOwl"):
        response = client.post(reverse("identity:pseudonym"), {"username": stray, "email": "other@example.org"})
        assert response.status_code == 200
        assert "single spaces between words" in response.content.decode()
