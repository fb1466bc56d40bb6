"""Moderator care in the admin: blurred reported and held text, kind removal notices through the
outbox, the filterable decision log, and bans confirmed by a second moderator."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from speakout.discussion.models import Commenter, Flag, ModerationLogEntry, Reply
from speakout.discussion.services import Author, edit_reply, flag_reply, submit_reply
from speakout.outbox.models import OutgoingMail
from speakout.safety.models import PendingBan, RemovalNotice, SafetySettings
from speakout.subscriptions import services as subscriptions
from speakout.subscriptions.models import Subscription
from tests.discussion.helpers import form_data

pytestmark = pytest.mark.django_db


def make_moderator(django_user_model, username, *perms, **fields):
    user = django_user_model.objects.create_user(username=username, password="pw", is_staff=True, **fields)
    for perm in ("wagtailadmin.access_admin", "speakout_discussion.change_reply", *perms):
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return user


def post(thread, body="A reply.", email="writer@example.org", name="Writer", told=False, confirmed=True):
    """A guest's reply. ``told``: its writer ticked "email me if a moderator publishes or removes
    this reply" and (``confirmed``) followed the confirmation link; that mail is cleared."""
    result = submit_reply(
        thread=thread,
        data=form_data(thread, body=body, name=name, email=email, notify_outcome=told),
        author=Author(client_hash=uuid.uuid4().hex, guest_token=uuid.uuid4().hex),
        checks=[],
    )
    assert result.ok, result.errors
    if told and confirmed:
        assert subscriptions.confirm(Subscription.objects.get(reply=result.reply, kind="outcome"))
    OutgoingMail.objects.all().delete()
    return result.reply


def queue(client, slug):
    return client.get(reverse("speakout_moderation:queue", args=[slug])).content.decode()


def veiled_ids(html: str) -> set[int]:
    return {int(value) for value in re.findall(r'id="speakout-veil-(\d+)"', html)}


# Blur ------------------------------------------------------------------------------------------


def test_reported_and_held_text_is_blurred_until_revealed(admin_client, thread, rules):
    """Held (pending) and reported replies come veiled, with a "Show this reply" control that
    sends nothing to the server; other replies are shown as before; the setting turns it off."""
    held = post(thread, body="Held words")
    Reply.objects.filter(pk=held.pk).update(status=Reply.Status.PENDING)
    reported = post(thread, body="Reported words", email="r@example.org")
    Flag.objects.create(reply=reported, reason=Flag.Reason.HARASSMENT)
    plain = post(thread, body="Plain words", email="p@example.org")

    pending_html = queue(admin_client, "pending")
    assert veiled_ids(pending_html) == {held.pk}
    assert "Show this reply" in pending_html
    veil = re.search(r'<input type="checkbox" class="speakout-veil__toggle"[^>]*>', pending_html).group(0)
    assert "name=" not in veil, "revealing is not sent to the server"
    assert veiled_ids(queue(admin_client, "reported")) == {reported.pk}
    approved_html = queue(admin_client, "approved")
    assert veiled_ids(approved_html) == {reported.pk}
    assert "Plain words" in approved_html and plain.pk not in veiled_ids(approved_html)

    settings = SafetySettings.load()
    settings.blur_held_content = False
    settings.save()
    assert veiled_ids(queue(admin_client, "pending")) == set()


def test_the_safety_settings_screen_has_the_care_settings(admin_client):
    url = reverse("speakout_moderation:safety")
    html = admin_client.get(url).content.decode()
    assert "blur_held_content" in html and "ban_needs_confirmation" in html
    data = {
        "personal_data_guard": "on",
        "spam_filter": "on",
        "spam_hold_score": "60",
        "spam_score": "95",
        "ban_needs_confirmation": "on",
        "pile_on_replies": "10",
        "pile_on_minutes": "30",
    }
    assert admin_client.post(url, data).status_code == 302
    saved = SafetySettings.objects.get(pk=1)
    assert saved.ban_needs_confirmation and not saved.blur_held_content


# What was reported -----------------------------------------------------------------------------

EDITED_LABEL = "Reported text (the author has edited it since)"


def reported_text(html: str) -> list[str]:
    """The reported texts the rows show, as the page writes them (escaped)."""
    shown = r'class="speakout-reported-text"[^>]*>\s*<summary>[^<]*</summary>\s*<p[^>]*>(.*?)</p>'
    return re.findall(shown, html, re.S)


def test_the_moderation_screen_shows_the_reported_text_after_an_edit(admin_client, thread, rules):
    """A reply reported, then rewritten by its author: its row in the queues shows, under the
    report, the text as reported (escaped: plain text), closed while reported text is blurred."""
    reply = post(thread, body="I know where you live <em>tonight</em>.")
    flag_reply(reply, Flag.Reason.HARASSMENT, note="a threat", client_hash="reader-hash")
    assert edit_reply(reply, "Sorry, I take that back.", None, owner_confirmed=True).ok

    for slug in ("reported", "approved"):
        html = queue(admin_client, slug)
        assert EDITED_LABEL in html
        assert reported_text(html) == ["I know where you live &lt;em&gt;tonight&lt;/em&gt;."], slug
        assert "<em>tonight</em>" not in html
        assert '<details class="speakout-reported-text">' in html, "closed while blurred"

    settings = SafetySettings.load()
    settings.blur_held_content = False
    settings.save()
    assert '<details class="speakout-reported-text" open>' in queue(admin_client, "reported")


def test_the_moderation_screen_shows_no_reported_text_when_the_reply_is_unchanged(admin_client, thread, rules):
    reply = post(thread, body="Words as they were reported.")
    flag_reply(reply, Flag.Reason.SPAM, client_hash="reader-hash")
    html = queue(admin_client, "reported")
    assert "Words as they were reported." in html
    assert EDITED_LABEL not in html and reported_text(html) == []


# Removal notices -------------------------------------------------------------------------------


def test_default_notices_exist_and_the_organisation_edits_them(admin_client):
    notices = list(RemovalNotice.objects.all())
    assert len(notices) == 3 and all(notice.message for notice in notices)
    index = admin_client.get(reverse("removal_notices:index"))
    assert index.status_code == 200 and notices[0].title in index.content.decode()
    response = admin_client.post(
        reverse("removal_notices:edit", args=[notices[0].pk]),
        {"title": "Be kind", "message": "We took your reply down. Thank you for understanding.", "sort_order": "0"},
    )
    assert response.status_code == 302
    assert RemovalNotice.objects.get(pk=notices[0].pk).title == "Be kind"


def test_a_removal_notice_goes_only_when_the_moderator_ticks_it_and_the_writer_asked(
    client, django_user_model, thread, rules
):
    moderator = make_moderator(
        django_user_model, "mod", first_name="Secret", last_name="Moderator", email="mod@example.org"
    )
    client.force_login(moderator)
    notice = RemovalNotice.objects.create(title="Kindly", message="Thank you for taking part; this one had to go.")
    unkind = post(thread, body="An unkind reply about a neighbour.", email="writer@example.org", told=True)
    quiet = post(thread, body="Another unkind reply.", email="quiet@example.org", told=True)
    unasked = post(thread, body="A reply whose writer did not ask.", email="unasked@example.org")
    unproved = post(
        thread, body="A typed address nobody confirmed.", email="typed@example.org", told=True, confirmed=False
    )
    url = reverse("speakout_moderation:queue", args=["approved"])

    html = client.get(url).content.decode()
    assert 'name="notify"' in html and "Kindly" in html

    client.post(url, {"single": f"trash:{unkind.pk}", "notify": "yes", "notice": str(notice.pk)})
    client.post(url, {"single": f"trash:{quiet.pk}", "notice": str(notice.pk)})  # box not ticked
    for reply in (unasked, unproved):
        client.post(url, {"single": f"spam:{reply.pk}", "notify": "yes", "notice": str(notice.pk)})
        assert Reply.objects.get(pk=reply.pk).status == Reply.Status.SPAM

    mail = OutgoingMail.objects.get()
    assert mail.to == "writer@example.org"
    assert "Thank you for taking part; this one had to go." in mail.text_body
    assert "An unkind reply about a neighbour." in mail.text_body and "A test report" not in mail.subject
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    for secret in ("Secret", "Moderator", "mod@example.org", "mod\n", "mod "):
        assert secret not in mail.text_body and secret not in mail.subject, "the notice never names the moderator"
        assert secret not in str(mail.headers)
    assert Reply.objects.get(pk=unkind.pk).status == Reply.Status.TRASH


def test_no_notice_for_approval_or_without_an_address(admin_client, thread, rules):
    notice = RemovalNotice.objects.first()
    held = post(thread, body="Waiting")  # its writer did not ask to hear the outcome
    Reply.objects.filter(pk=held.pk).update(status=Reply.Status.PENDING)
    rules.require_name_email = False
    rules.save()
    anonymous = post(thread, body="No address", email="")
    url = reverse("speakout_moderation:queue", args=["pending"])
    admin_client.post(url, {"single": f"approve:{held.pk}", "notify": "yes", "notice": str(notice.pk)})
    admin_client.post(
        reverse("speakout_moderation:queue", args=["approved"]),
        {"single": f"spam:{anonymous.pk}", "notify": "yes", "notice": str(notice.pk)},
    )
    assert not OutgoingMail.objects.exists()
    assert Reply.objects.get(pk=anonymous.pk).status == Reply.Status.SPAM


def test_bulk_removal_sends_one_notice_per_reply(admin_client, thread, rules):
    notice = RemovalNotice.objects.first()
    replies = [post(thread, body=f"Reply {n}", email=f"w{n}@example.org", told=True) for n in range(3)]
    admin_client.post(
        reverse("speakout_moderation:queue", args=["approved"]),
        {"action": "trash", "ids": [str(r.pk) for r in replies], "notify": "yes", "notice": str(notice.pk)},
    )
    assert sorted(OutgoingMail.objects.values_list("to", flat=True)) == [f"w{n}@example.org" for n in range(3)]


# Decision log ----------------------------------------------------------------------------------


def test_the_decision_log_filters_by_who_what_when_and_reason(client, django_user_model, thread, rules):
    alice = make_moderator(django_user_model, "alice")
    bob = make_moderator(django_user_model, "bob")
    first, second, third = (post(thread, body=f"Reply {n}", email=f"x{n}@example.org") for n in range(3))
    url = reverse("speakout_moderation:queue", args=["approved"])
    client.force_login(alice)
    client.post(url, {"single": f"trash:{first.pk}", "reason": "rude to a neighbour"})
    client.post(url, {"single": f"spam:{second.pk}", "reason": "casino links"})
    client.force_login(bob)
    client.post(url, {"single": f"trash:{third.pk}", "reason": "off topic"})
    old = ModerationLogEntry.objects.get(reply=third)
    ModerationLogEntry.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    log = reverse("speakout_moderation:log")

    def reasons(query):
        html = client.get(log, query).content.decode()
        return {reason for reason in ("rude to a neighbour", "casino links", "off topic") if reason in html}

    assert reasons({}) == {"rude to a neighbour", "casino links", "off topic"}
    assert reasons({"actor": alice.pk}) == {"rude to a neighbour", "casino links"}
    assert reasons({"action": "trash"}) == {"rude to a neighbour", "off topic"}
    assert reasons({"actor": alice.pk, "action": "spam"}) == {"casino links"}
    assert reasons({"since": (timezone.now() - timedelta(days=2)).date().isoformat()}) == {
        "rude to a neighbour",
        "casino links",
    }
    assert reasons({"until": (timezone.now() - timedelta(days=5)).date().isoformat()}) == {"off topic"}
    assert reasons({"reason": "CASINO"}) == {"casino links"}
    html = client.get(log, {"action": "ban"}).content.decode()
    assert "No decision matches these filters." in html
    assert client.get(log, {"since": "not a date"}).status_code == 200, "a bad filter is shown, not a 500"


# Bans by two moderators ------------------------------------------------------------------------


def test_a_ban_waits_for_a_second_moderator_when_the_setting_asks(client, django_user_model, thread, rules):
    settings = SafetySettings.load()
    settings.ban_needs_confirmation = True
    settings.save()
    first = make_moderator(django_user_model, "first")
    second = make_moderator(django_user_model, "second")
    commenter = post(thread, email="troll@example.org").commenter
    url = reverse("speakout_moderation:commenter", args=[commenter.pk])

    client.force_login(first)
    assert "Ask to ban this commenter" in client.get(url).content.decode()
    client.post(url, {"action": "ban", "reason": "Repeated threats"})
    commenter.refresh_from_db()
    assert not commenter.is_banned
    pending = PendingBan.objects.get(commenter=commenter)
    assert pending.requested_by == first and pending.reason == "Repeated threats"
    assert ModerationLogEntry.objects.filter(commenter=commenter, action="ban_requested", actor=first).exists()
    html = client.get(url).content.decode()
    assert "A second moderator must confirm" in html and 'value="confirm_ban"' not in html

    client.post(url, {"action": "confirm_ban"})  # forged: the first cannot confirm their own
    commenter.refresh_from_db()
    assert not commenter.is_banned and PendingBan.objects.exists()

    client.force_login(second)
    assert 'value="confirm_ban"' in client.get(url).content.decode()
    client.post(url, {"action": "confirm_ban"})
    commenter.refresh_from_db()
    assert commenter.is_banned and commenter.banned_reason == "Repeated threats"
    assert not PendingBan.objects.exists()
    ban = ModerationLogEntry.objects.get(commenter=commenter, action="ban")
    assert ban.actor == second
    log_html = client.get(reverse("speakout_moderation:log")).content.decode()
    assert "Ban asked for" in log_html and "Banned" in log_html


def test_bans_waiting_for_a_second_moderator_are_listed_for_the_others(client, django_user_model, thread, rules):
    bans = reverse("speakout_moderation:pending_bans")
    first = make_moderator(django_user_model, "first")
    second = make_moderator(django_user_model, "second")
    client.force_login(second)
    home = client.get(reverse("wagtailadmin_home")).content.decode()
    assert "Bans to confirm" not in home, "not offered while one moderator may ban"

    settings = SafetySettings.load()
    settings.ban_needs_confirmation = True
    settings.save()
    commenter = post(thread, email="troll@example.org", name="Harsh").commenter
    client.force_login(first)
    client.post(reverse("speakout_moderation:commenter", args=[commenter.pk]), {"action": "ban", "reason": "Threats"})
    html = client.get(bans).content.decode()
    assert "Review (another moderator must confirm)" in html, "the one who asked is told they cannot confirm"

    client.force_login(second)
    assert "Bans to confirm (1)" in client.get(reverse("wagtailadmin_home")).content.decode()
    html = client.get(bans).content.decode()
    row = re.search(r'<tr id="ban-\d+">.*?</tr>', html, re.S).group(0)
    assert "Harsh" in row and commenter.handle in row and "Threats" in row and "first" in row
    assert reverse("speakout_moderation:commenter", args=[commenter.pk]) in row
    assert "Review and confirm or withdraw" in row
    assert "troll@example.org" not in html
    assert "Bans to confirm (1)" in queue(client, "pending"), "a tab beside the queues"

    # Turning the setting off leaves the waiting ban listed until someone acts on it.
    settings.ban_needs_confirmation = False
    settings.save()
    assert "Bans to confirm (1)" in client.get(bans).content.decode()
    client.post(reverse("speakout_moderation:commenter", args=[commenter.pk]), {"action": "confirm_ban"})
    html = client.get(bans).content.decode()
    assert "No ban is waiting for a second moderator." in html
    assert "Bans to confirm" not in client.get(reverse("wagtailadmin_home")).content.decode()

    reader = django_user_model.objects.create_user("reader", password="x", is_staff=True)
    client.force_login(reader)
    assert client.get(bans).status_code in (302, 403)


def test_a_ban_request_can_be_withdrawn_and_without_the_setting_bans_at_once(
    admin_client, django_user_model, thread, rules
):
    settings = SafetySettings.load()
    settings.ban_needs_confirmation = True
    settings.save()
    commenter = post(thread, email="maybe@example.org").commenter
    url = reverse("speakout_moderation:commenter", args=[commenter.pk])
    admin_client.post(url, {"action": "ban", "reason": "hasty"})
    admin_client.post(url, {"action": "withdraw_ban", "reason": "I was wrong"})
    assert not PendingBan.objects.exists()
    assert ModerationLogEntry.objects.filter(action="ban_withdrawn", reason="I was wrong").exists()

    settings.ban_needs_confirmation = False
    settings.save()
    admin_client.post(url, {"action": "ban", "reason": "now"})
    assert Commenter.objects.get(pk=commenter.pk).is_banned
