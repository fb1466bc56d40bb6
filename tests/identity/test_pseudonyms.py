"""Pseudonymous but accountable, end to end: a reader opens a pseudonym from the reply form,
proves their address with the link mailed through the outbox, replies; the public sees only the
pseudonym; moderators see an opaque handle and the commenter's history, and the address only
with the ``view_commenter_email`` permission; the reader comes back with a code mailed to them."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse

from speakout.discussion.models import Commenter, Reply
from speakout.outbox.models import OutgoingMail
from tests.discussion.helpers import form_data

# The discussion's rules with the first-reply hold off, so a reply publishes at once.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("rules")]

User = get_user_model()


@pytest.fixture
def report(site_builder):
    return site_builder.report("Shelter report")


@pytest.fixture
def thread(report):
    from speakout.publishing.discussion import thread_for_report

    return thread_for_report(report)


def link_in(mail: OutgoingMail, path: str) -> str:
    match = re.search(rf"https?://[^\s\"<]+{re.escape(path)}[^\s\"<]+", mail.text_body)
    assert match, mail.text_body
    return urlsplit(match.group(0)).path


def open_pseudonym(client, report, pseudonym="quietfox", email="lena@example.org"):
    """Sign up under a pseudonym from the reply form and follow the mailed link."""
    next_url = f"{report.url}#respond"
    response = client.post(reverse("identity:pseudonym"), {"username": pseudonym, "email": email, "next": next_url})
    assert response.status_code == 302, response.content.decode()
    assert response["Location"] == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session  # not until the address is proved
    mail = OutgoingMail.objects.get(to=email)
    link = link_in(mail, "/accounts/confirm-email/")
    response = client.post(link)
    assert response.status_code == 302
    assert response["Location"] == next_url  # back at the reply form, signed in
    return User.objects.get(username=pseudonym)


def moderator(username, *codenames):
    user = User.objects.create_user(username=username, password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin"))
    for codename in ("change_reply", *codenames):
        permission = Permission.objects.get(content_type__app_label="speakout_discussion", codename=codename)
        user.user_permissions.add(permission)
    return user


def test_reply_under_a_pseudonym_then_moderators_see_a_handle_not_the_address(client, report, thread):
    page = client.get(report.url).content.decode()
    assert f'href="{reverse("identity:pseudonym")}?next=' in page  # offered on the reply form
    form_page = client.get(reverse("identity:pseudonym")).content.decode()
    assert 'name="username"' in form_page and 'name="email"' in form_page and "password" not in form_page

    user = open_pseudonym(client, report)
    assert not user.has_usable_password()
    assert "You are commenting as <strong>quietfox</strong>" in client.get(report.url).content.decode()

    response = client.post("/discussion/post/", form_data(thread, body="It happened to me too."))
    assert response.status_code == 303
    reply = Reply.objects.get()
    assert reply.author_name == "quietfox" and reply.status == Reply.Status.APPROVED
    commenter = reply.commenter
    assert commenter.email == "lena@example.org" and commenter.user == user
    assert re.fullmatch(r"[a-z2-9]{4}-[a-z2-9]{4}", commenter.handle)

    # The public: only the pseudonym, on the page and in the API.
    client.logout()
    public = client.get(report.url).content.decode() + client.get(f"/api/threads/{thread.key}").content.decode()
    assert "quietfox" in public and "lena" not in public

    # A moderator without the email permission: the handle and the history, not the address.
    queue = reverse("speakout_moderation:queue", args=["approved"])
    history = reverse("speakout_moderation:commenter", args=[commenter.pk])
    client.force_login(moderator("mod"))
    screens = client.get(queue).content.decode() + client.get(history).content.decode()
    assert commenter.handle in screens and "lena@example.org" not in screens
    history_page = client.get(history).content.decode()
    assert "Yes (a site account with a verified address)" in history_page
    assert "Approved: 1" in history_page and "Pending: 0" in history_page and "Spam: 0" in history_page
    # ...and may find the commenter's replies by handle, but not by address.
    assert f"reply-{reply.pk}" in client.get(queue, {"q": commenter.handle}).content.decode()
    assert f"reply-{reply.pk}" not in client.get(queue, {"q": "lena@"}).content.decode()

    # One who holds the separate permission sees the address.
    client.force_login(moderator("lead", "view_commenter_email"))
    assert "lena@example.org" in client.get(history).content.decode()
    assert "lena@example.org" in client.get(queue).content.decode()


def test_the_handle_is_stable_and_says_nothing():
    commenter = Commenter.objects.create(email="kim@example.org", display_name="")
    handle = commenter.handle
    commenter.display_name = "Kim"
    commenter.save()
    commenter.refresh_from_db()
    assert commenter.handle == handle
    assert str(Commenter.objects.create(email="nameless@example.org")) != "nameless@example.org"
    assert "kim" not in handle


def test_the_reader_comes_back_with_a_code_mailed_to_them(client, report):
    open_pseudonym(client, report)
    client.logout()
    OutgoingMail.objects.all().delete()

    response = client.post(reverse("account_request_login_code"), {"email": "lena@example.org"})
    assert response.status_code == 302
    mail = OutgoingMail.objects.get(to="lena@example.org")
    code = re.search(r"^\s*([A-Z0-9-]{6,12})\s*$", mail.text_body, re.MULTILINE).group(1)
    response = client.post(reverse("account_confirm_login_code"), {"code": code})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(User.objects.get(username="quietfox").pk)


@pytest.mark.parametrize(
    ("pseudonym", "email", "message"),
    [
        ("lena.m", "lena.m@example.org", "This pseudonym gives away your email address."),
        ("Moderator", "x@example.org", "That name cannot be used here."),
    ],
)
def test_a_pseudonym_that_identifies_is_refused_and_the_form_kept(client, pseudonym, email, message):
    response = client.post(reverse("identity:pseudonym"), {"username": pseudonym, "email": email})
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html and f'value="{email}"' in html
    assert not User.objects.exists() and not OutgoingMail.objects.exists()


def test_pseudonyms_can_be_switched_off(client, report, settings):
    settings.SPEAKOUT_PSEUDONYMS = False
    assert client.get(reverse("identity:pseudonym")).status_code == 404
    assert reverse("identity:pseudonym") not in client.get(report.url).content.decode()
