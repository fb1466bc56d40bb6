"""A shared browser (a library, a shelter's computer): what an account wrote there is the
account's, not the browser's. Its guest cookie outlives every sign-out, so a reply filed under it
as well as under the account would stay readable, editable and deletable by whoever comes next."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings

from speakout.discussion import app_settings as discussion_settings
from speakout.discussion.models import Reply
from tests.security.claims import KEY, SITE, fresh_client, make_owner, send

pytestmark = pytest.mark.django_db


def test_an_account_s_held_reply_is_not_the_browser_s_once_signed_out(site):
    """A shared browser (a library, a shelter's computer): someone once replied there as a guest,
    so the browser keeps a guest cookie for a year. Then Kit signs in and replies; a moderator has
    not read it yet. Kit signs out. Whoever uses the browser next must neither read Kit's held
    reply nor edit or delete it: signing out ends the account's rights."""
    browser = fresh_client()
    earlier = send("form", browser, name="Someone", email="someone@example.net", body="An earlier guest reply.")
    assert earlier.reply_id is not None
    assert discussion_settings.GUEST_COOKIE_NAME in browser.cookies, "the guest cookie the browser keeps"

    kit = make_owner("kit@example.org", "kit")
    browser.force_login(kit)
    written = send("form", browser, name="", email="", body="Held words of Kit, not for anyone else.")
    assert written.outcome == "held"
    reply = Reply.objects.get(pk=written.reply_id)
    assert reply.user_id == kit.pk

    # Signing out as a browser does: the session goes, the guest cookie stays.
    browser.post("/accounts/logout/")
    assert (
        django_settings.SESSION_COOKIE_NAME not in browser.cookies
        or not browser.cookies[django_settings.SESSION_COOKIE_NAME].value
    )
    assert discussion_settings.GUEST_COOKIE_NAME in browser.cookies

    leaks = []
    if browser.get(f"/discussion/reply/{reply.pk}/edit/").status_code != 404:
        leaks.append("opens the account's held reply to edit")
    if "Held words of Kit" in browser.get("/embed/thread/", {"url": f"{SITE}{KEY}"}).content.decode():
        leaks.append("reads the account's held reply in the thread")
    browser.post(f"/discussion/reply/{reply.pk}/delete/")
    if Reply.objects.get(pk=reply.pk).status != Reply.Status.PENDING:
        leaks.append("deletes the account's reply")
    assert not leaks, "after signing out, the next person at the browser " + "; ".join(leaks)


def test_the_next_account_at_the_browser_does_not_see_the_last_one_s_held_reply(site):
    """The same browser, another account: Lee signs in after Kit signed out, and the thread shows
    Lee nothing of Kit's held reply."""
    browser = fresh_client()
    send("form", browser, name="Someone", email="someone@example.net", body="An earlier guest reply.")
    kit = make_owner("kit@example.org", "kit")
    browser.force_login(kit)
    written = send("form", browser, name="", email="", body="Held words of Kit, for Kit alone.")
    assert written.outcome == "held"
    browser.post("/accounts/logout/")
    browser.force_login(make_owner("lee@example.org", "lee"))
    thread = browser.get("/embed/thread/", {"url": f"{SITE}{KEY}"}).content.decode()
    assert "Held words of Kit" not in thread
    browser.force_login(kit)
    assert "Held words of Kit" in browser.get("/embed/thread/", {"url": f"{SITE}{KEY}"}).content.decode()


def test_an_upgrade_takes_the_browser_s_key_off_replies_written_by_accounts(site):
    """Replies stored before the fix carry both; the migration leaves them the account's alone and
    keeps a guest's own key."""
    from importlib import import_module

    from django.apps import apps

    browser = fresh_client()
    guest = send("form", browser, name="Someone", email="someone@example.net", body="A guest's reply.")
    kit = make_owner("kit@example.org", "kit")
    browser.force_login(kit)
    written = send("form", browser, name="", email="", body="Kit's reply.")
    guest_key = Reply.objects.get(pk=guest.reply_id).guest_key
    assert guest_key
    Reply.objects.filter(pk=written.reply_id).update(guest_key=guest_key)  # as stored before
    migration = import_module("speakout.discussion.migrations.0018_account_replies_not_the_browsers")
    migration.forget_browser_keys_of_account_replies(apps, None)
    assert Reply.objects.get(pk=written.reply_id).guest_key == ""
    assert Reply.objects.get(pk=guest.reply_id).guest_key == guest_key


def test_a_sign_in_token_does_not_outlive_signing_out(site):
    """The widget's token was void only by a password change (its fingerprint is the session
    auth hash). On a shared computer a reader who signed out of Speakout (allauth's Log out) left
    the embedding page signed in as them for up to SPEAKOUT_EMBED_SIGNIN_MAX_AGE: the next person
    there saw their held replies and posted under their account. (The widget's own "Log out" only
    forgets the token in that page's localStorage.) Signing out must end what the session handed
    out."""
    from speakout.embed.middleware import SIGNIN_COOKIE

    kit = make_owner("kit@example.org", "kit")
    browser = fresh_client()
    browser.force_login(kit)
    browser.cookies[SIGNIN_COOKIE] = "1"
    html = browser.get("/embed/signin/", {"origin": SITE}).content.decode()
    token = html.split('data-token="', 1)[1].split('"', 1)[0]
    widget = fresh_client()
    headers = {"X-Speakout-User": token}
    assert widget.get("/embed/api/thread", {"key": KEY}, headers=headers).json()["viewer"]["signed_in"] is True

    browser.post("/accounts/logout/")
    assert "_auth_user_id" not in browser.session, "signed out of Speakout"

    viewer = widget.get("/embed/api/thread", {"key": KEY}, headers=headers).json()["viewer"]
    assert viewer["signed_in"] is False, "the token handed out by the ended session still signs in"
