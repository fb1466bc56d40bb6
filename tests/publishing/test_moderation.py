"""The moderators' screens in the Wagtail admin (speakout/publishing/moderation.py) over the
discussion's moderation domain (speakout/discussion/moderation.py)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from speakout.discussion import services
from speakout.discussion.models import (
    BannedClient,
    Commenter,
    DiscussionSettings,
    Flag,
    ModerationLogEntry,
    Reply,
    Thread,
)
from speakout.discussion.moderation import queue_counts
from speakout.discussion.policy import TrustCheck
from tests.publishing.helpers import commenter_url, make_reply, queue_url

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
JS_URL = "javascript:alert(1)"


@pytest.fixture
def thread():
    return services.get_or_create_thread("report-1", url="https://example.org/reports/housing/", title="Housing report")


@pytest.fixture
def other_thread():
    return services.get_or_create_thread(
        "report-2", url="https://example.org/reports/transport/", title="Transport report"
    )


def submit(thread: Thread, *, name: str, email: str, body: str, hold: bool = True, client_hash: str = ""):
    """A reply through the real write path; held for review when ``hold`` (first reply). Each
    address writes from its own browser (one guest token), which files its replies together."""
    result = services.submit_reply(
        thread=thread,
        data={
            "thread": thread.key,
            "name": name,
            "email": email,
            "website": "",
            "body": body,
            "parent": "",
        },
        author=services.Author(client_hash=client_hash, guest_token=f"browser-of-{email}"),
        checks=[TrustCheck()] if hold else [],
        check_form_token=False,
    )
    assert result.ok, result.errors
    return result.reply


def make_staff(django_user_model, username: str, *perms: str):
    """A staff user with Wagtail admin access and the given "app_label.codename" permissions."""
    user = django_user_model.objects.create_user(username=username, password="pw", is_staff=True)
    for perm in ("wagtailadmin.access_admin", *perms):
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return user


def row_ids(html: str) -> set[int]:
    return {int(value) for value in re.findall(r'name="ids" value="(\d+)"', html)}


# Queues ---------------------------------------------------------------------------------------


def test_each_queue_lists_only_its_replies(admin_client, thread):
    """Pending, Approved, Spam and Trash list their status; Reported lists approved replies
    with an unresolved report, and a resolved report takes a reply off it."""
    pending = make_reply(thread, status="pending", body="pending words")
    approved = make_reply(thread, status="approved", body="approved words")
    reported = make_reply(thread, status="approved", body="reported words")
    Flag.objects.create(reply=reported, reason=Flag.Reason.HARASSMENT, note="Rude to a neighbour")
    settled = make_reply(thread, status="approved", body="settled words")
    Flag.objects.create(reply=settled, reason=Flag.Reason.SPAM, resolved_at="2024-01-01T00:00:00Z")
    spam = make_reply(thread, status="spam", body="spam words")
    trash = make_reply(thread, status="trash", body="trash words")
    expected = {
        "pending": {pending.pk},
        "approved": {approved.pk, reported.pk, settled.pk},
        "reported": {reported.pk},
        "spam": {spam.pk},
        "trash": {trash.pk},
    }

    for slug, ids in expected.items():
        response = admin_client.get(queue_url(slug))
        assert response.status_code == 200, slug
        assert row_ids(response.content.decode()) == ids, slug

    reported_html = admin_client.get(queue_url("reported")).content.decode()
    assert "Harassment or abuse" in reported_html and "Rude to a neighbour" in reported_html
    assert "Housing report" in reported_html
    assert f'href="https://example.org/reports/housing/#reply-{reported.pk}"' in reported_html
    assert admin_client.get(reverse("speakout_moderation:index")).status_code == 200
    assert admin_client.get(queue_url("nonsense")).status_code == 404


def test_rows_show_author_reason_and_date(admin_client, thread):
    """A row shows the author's name, website, the excerpt and why the reply is in the queue."""
    make_reply(
        thread,
        name="Grace",
        email="grace@example.org",
        website="https://grace.example.net/",
        body="**Bold** claim about rents",
        reason="First reply from this commenter.",
    )

    html = admin_client.get(queue_url("pending")).content.decode()

    assert "Grace" in html
    assert 'href="https://grace.example.net/"' in html
    assert "Bold claim about rents" in html
    assert "<strong>Bold</strong>" not in html, "the body is shown as text, not as HTML"
    assert "First reply from this commenter." in html
    assert "grace@example.org" in html, "a superuser sees commenters' email addresses"


def test_menu_labels_carry_queue_counts(admin_client, thread):
    """The Replies menu lists each queue with its size."""
    for _ in range(3):
        make_reply(thread, status="pending", body=f"pending {_}")
    make_reply(thread, status="spam", body="spam")

    html = admin_client.get(reverse("wagtailadmin_home")).content.decode()

    assert "Pending (3)" in html
    assert "Spam (1)" in html
    assert "Trash (0)" in html
    assert "Reported (0)" in html


def test_queue_counts_take_one_query_each_for_statuses_reports_and_the_fediverse(thread, django_assert_num_queries):
    """One grouped count for the statuses, one for open reports, one for the app's queue."""
    make_reply(thread, status="pending")
    reported = make_reply(thread, status="approved", body="other")
    Flag.objects.create(reply=reported, reason=Flag.Reason.SPAM)

    with django_assert_num_queries(3):
        counts = queue_counts()

    assert counts == {"pending": 1, "approved": 1, "reported": 1, "spam": 0, "trash": 0, "fediverse": 0}


def test_queue_is_paginated_by_fifty(admin_client, thread):
    for number in range(51):
        make_reply(thread, body=f"reply number {number}", email="")

    first = admin_client.get(queue_url("pending")).content.decode()
    second = admin_client.get(queue_url("pending") + "?p=2").content.decode()

    assert len(row_ids(first)) == 50
    assert len(row_ids(second)) == 1
    assert row_ids(first).isdisjoint(row_ids(second))


def test_queue_page_query_count_does_not_grow_with_replies(admin_client, thread, other_thread):
    """Threads, commenters and reports are fetched together, not once per row."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert admin_client.get(queue_url("pending")).status_code == 200
        return len(context)

    for number in range(2):
        make_reply(thread, body=f"few {number}", email=f"few{number}@example.org")
    queries()  # the first request also fills the settings cache (SafetySettings.load)
    few = queries()
    for number in range(20):
        reply = make_reply(other_thread if number % 2 else thread, body=f"many {number}", email=f"m{number}@ex.org")
        Flag.objects.create(reply=reply, reason=Flag.Reason.SPAM)

    assert queries() == few


# Actions --------------------------------------------------------------------------------------


def test_bulk_approve_goes_through_services_and_counts(admin_client, admin_user, thread):
    """Approving held replies publishes them, bumps the thread's count and logs the actor."""
    first = submit(thread, name="Ada", email="ada@example.org", body="First held reply")
    second = submit(thread, name="Bea", email="bea@example.org", body="Second held reply")
    assert first.status == second.status == Reply.Status.PENDING
    version = Thread.objects.get(pk=thread.pk).version

    response = admin_client.post(
        queue_url("pending"),
        {"action": "approve", "ids": [first.pk, second.pk], "reason": "Looks fine"},
    )

    assert response.status_code == 302
    assert response["Location"] == queue_url("pending")
    assert set(Reply.objects.values_list("status", flat=True)) == {Reply.Status.APPROVED}
    refreshed = Thread.objects.get(pk=thread.pk)
    assert refreshed.approved_count == 2
    assert refreshed.version > version
    assert Commenter.objects.get(email="ada@example.org").approved_count == 1
    entries = ModerationLogEntry.objects.filter(action="approved")
    assert {entry.reply_id for entry in entries} == {first.pk, second.pk}
    assert {entry.actor_id for entry in entries} == {admin_user.pk}
    assert {entry.reason for entry in entries} == {"Looks fine"}


@pytest.mark.parametrize("action, status", [("spam", "spam"), ("trash", "trash")])
def test_bulk_spam_and_trash(admin_client, admin_user, thread, action, status):
    replies = [make_reply(thread, body=f"text {n}") for n in range(3)]
    kept = make_reply(thread, body="not selected")

    admin_client.post(queue_url("pending"), {"action": action, "ids": [r.pk for r in replies[:2]]})

    statuses = dict(Reply.objects.values_list("pk", "status"))
    assert statuses[replies[0].pk] == statuses[replies[1].pk] == status
    assert statuses[replies[2].pk] == statuses[kept.pk] == "pending"
    entries = ModerationLogEntry.objects.filter(action=status)
    assert entries.count() == 2
    assert all(entry.actor_id == admin_user.pk for entry in entries)


def test_trashing_an_approved_reply_lowers_the_count(admin_client, thread):
    reply = submit(thread, name="Ada", email="ada@example.org", body="Published", hold=False)
    assert Thread.objects.get(pk=thread.pk).approved_count == 1

    admin_client.post(queue_url("approved"), {"single": f"trash:{reply.pk}"})

    assert Reply.objects.get(pk=reply.pk).status == "trash"
    assert Thread.objects.get(pk=thread.pk).approved_count == 0


def test_single_row_action(admin_client, admin_user, thread):
    """A row's own button acts on that reply alone."""
    target = make_reply(thread, body="the one")
    other = make_reply(thread, body="the other")

    admin_client.post(queue_url("pending"), {"single": f"spam:{target.pk}", "ids": [other.pk]})

    assert Reply.objects.get(pk=target.pk).status == "spam"
    assert Reply.objects.get(pk=other.pk).status == "pending"
    assert ModerationLogEntry.objects.get(reply=target).actor == admin_user


def test_delete_permanently_asks_first_and_logs(admin_client, admin_user, thread):
    spam = make_reply(thread, status="spam", body="buy pills")
    trash = make_reply(thread, status="trash", body="old words")

    confirm = admin_client.post(queue_url("spam"), {"action": "delete", "ids": [spam.pk]})

    assert confirm.status_code == 200
    assert "Yes, delete permanently" in confirm.content.decode()
    assert Reply.objects.filter(pk=spam.pk).exists()

    admin_client.post(
        queue_url("spam"),
        {"action": "delete", "ids": [spam.pk], "confirm": "yes", "reason": "junk"},
    )
    admin_client.post(queue_url("trash"), {"single": f"delete:{trash.pk}", "confirm": "yes"})

    assert not Reply.objects.filter(pk__in=[spam.pk, trash.pk]).exists()
    entries = ModerationLogEntry.objects.filter(action="delete")
    assert entries.count() == 2
    assert {entry.actor_id for entry in entries} == {admin_user.pk}
    assert "junk" in set(entries.values_list("reason", flat=True))


def test_delete_permanently_only_from_spam_and_trash(admin_client, thread):
    """Pending and approved replies cannot be deleted permanently, even by a forged form."""
    pending = make_reply(thread, status="pending", body="pending")
    approved = make_reply(thread, status="approved", body="approved")

    admin_client.post(queue_url("pending"), {"action": "delete", "ids": [pending.pk], "confirm": "yes"})
    admin_client.post(queue_url("spam"), {"action": "delete", "ids": [approved.pk], "confirm": "yes"})
    html = admin_client.get(queue_url("pending")).content.decode()

    assert Reply.objects.filter(pk__in=[pending.pk, approved.pk]).count() == 2
    assert not ModerationLogEntry.objects.filter(action="delete").exists()
    assert 'value="delete"' not in html


def test_actions_skip_replies_that_left_the_queue(admin_client, thread):
    """A stale form does not approve a reply another moderator has since marked as spam."""
    reply = make_reply(thread, status="spam")

    admin_client.post(queue_url("pending"), {"action": "approve", "ids": [reply.pk]})

    assert Reply.objects.get(pk=reply.pk).status == "spam"


def test_dismissing_reports_keeps_the_reply_and_clears_the_queue(admin_client, admin_user, thread):
    reply = make_reply(thread, status="approved")
    Flag.objects.create(reply=reply, reason=Flag.Reason.OTHER)

    admin_client.post(queue_url("reported"), {"action": "dismiss", "ids": [reply.pk], "reason": "Fair comment"})

    assert Reply.objects.get(pk=reply.pk).status == "approved"
    assert not Flag.objects.filter(reply=reply, resolved_at__isnull=True).exists()
    entry = ModerationLogEntry.objects.get(action="dismiss_reports")
    assert (entry.reply_id, entry.actor_id, entry.reason) == (
        reply.pk,
        admin_user.pk,
        "Fair comment",
    )
    assert row_ids(admin_client.get(queue_url("reported")).content.decode()) == set()


def test_posts_need_the_csrf_token(thread, admin_user):
    from django.test import Client

    reply = make_reply(thread)
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)

    response = client.post(queue_url("pending"), {"action": "approve", "ids": [reply.pk]})

    assert response.status_code == 403
    assert Reply.objects.get(pk=reply.pk).status == "pending"


# Search ---------------------------------------------------------------------------------------


def test_search_by_text_name_email_and_thread_title(admin_client, thread, other_thread):
    rents = make_reply(thread, name="Ada", email="ada@example.org", body="Rents are too high")
    buses = make_reply(other_thread, name="Bea", email="bea@mail.test", body="Buses are late")

    def found(query: str) -> set[int]:
        return row_ids(admin_client.get(queue_url("pending"), {"q": query}).content.decode())

    assert found("rents") == {rents.pk}
    assert found("bea") == {buses.pk}
    assert found("mail.test") == {buses.pk}
    assert found("Transport") == {buses.pk}
    assert found("") == {rents.pk, buses.pk}
    assert found("nothing like this") == set()


# Email visibility and permissions -------------------------------------------------------------


def test_email_needs_the_view_commenter_email_permission(client, django_user_model, thread):
    """Moderators without "see commenters' email addresses" see neither addresses nor search by
    them; Django's stock "view commenter" is not enough."""
    reply = make_reply(thread, email="secret@example.org", body="Words")
    moderator = make_staff(django_user_model, "mod", "speakout_discussion.change_reply")
    client.force_login(moderator)

    queue_html = client.get(queue_url("pending")).content.decode()
    history_html = client.get(commenter_url(reply.commenter)).content.decode()
    searched = client.get(queue_url("pending"), {"q": "secret@"}).content.decode()

    assert "secret@example.org" not in queue_html
    assert "secret@example.org" not in history_html
    assert row_ids(searched) == set()

    moderator.user_permissions.add(Permission.objects.get(codename="view_commenter"))
    moderator = django_user_model.objects.get(pk=moderator.pk)  # drop the permission cache
    client.force_login(moderator)
    assert "secret@example.org" not in client.get(queue_url("pending")).content.decode()

    moderator.user_permissions.add(Permission.objects.get(codename="view_commenter_email"))
    moderator = django_user_model.objects.get(pk=moderator.pk)
    client.force_login(moderator)
    assert "secret@example.org" in client.get(queue_url("pending")).content.decode()
    assert row_ids(client.get(queue_url("pending"), {"q": "secret@"}).content.decode()) == {reply.pk}


def all_screens(reply: Reply) -> list[str]:
    return [
        reverse("speakout_moderation:index"),
        *[queue_url(slug) for slug in ("pending", "approved", "reported", "spam", "trash")],
        commenter_url(reply.commenter),
        reverse("speakout_moderation:log"),
        reverse("speakout_moderation:settings"),
    ]


def test_non_staff_user_is_refused(client, django_user_model, thread):
    reply = make_reply(thread, body="Secret words")
    user = django_user_model.objects.create_user(username="reader", password="pw")
    client.force_login(user)

    for url in all_screens(reply):
        response = client.get(url)
        assert response.status_code == 302, url
        # The admin's login is the site's one login (allauth).
        assert response["Location"].startswith(reverse("account_login")), url
    client.post(queue_url("pending"), {"action": "approve", "ids": [reply.pk]})
    client.post(commenter_url(reply.commenter), {"action": "ban"})

    assert Reply.objects.get(pk=reply.pk).status == "pending"
    assert not Commenter.objects.get(pk=reply.commenter_id).is_banned


def test_staff_without_moderation_permission_is_refused(client, django_user_model, thread):
    reply = make_reply(thread, body="Secret words")
    editor = make_staff(django_user_model, "editor")
    client.force_login(editor)

    for url in all_screens(reply):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == reverse("wagtailadmin_home"), url
    client.post(queue_url("pending"), {"action": "approve", "ids": [reply.pk]})
    client.post(commenter_url(reply.commenter), {"action": "ban"})
    home = client.get(reverse("wagtailadmin_home")).content.decode()

    assert Reply.objects.get(pk=reply.pk).status == "pending"
    assert not Commenter.objects.get(pk=reply.commenter_id).is_banned
    assert "Pending (" not in home, "the Replies menu is hidden"


def test_moderator_without_settings_permission_cannot_change_rules(client, django_user_model, thread):
    moderator = make_staff(django_user_model, "mod", "speakout_discussion.change_reply")
    client.force_login(moderator)

    assert client.get(queue_url("pending")).status_code == 200
    assert client.get(reverse("speakout_moderation:settings")).status_code == 302
    client.post(reverse("speakout_moderation:settings"), {"hold_words": "sneaky", "max_depth": 5})

    assert DiscussionSettings.load().hold_words == ""


# Commenter history, log, settings ---------------------------------------------------------------


def test_commenter_history_lists_replies_and_bans(admin_client, admin_user, thread, other_thread):
    first = submit(thread, name="Ada", email="ada@example.org", body="On housing", hold=False, client_hash="h1")
    second = submit(other_thread, name="Ada", email="ada@example.org", body="On buses", client_hash="h2")
    services.set_status(second, Reply.Status.SPAM, actor=admin_user, reason="Selling things")
    make_reply(thread, name="Bea", email="bea@example.org", body="Someone else entirely")
    commenter = Commenter.objects.get(email="ada@example.org")
    url = commenter_url(commenter)

    html = admin_client.get(url).content.decode()

    assert "On housing" in html and "On buses" in html
    assert "Someone else entirely" not in html
    assert "Housing report" in html and "Transport report" in html
    assert "Spam" in html and "Approved" in html
    assert "Selling things" in html, "the log entries about the commenter are shown"
    assert first.commenter_id == commenter.pk

    response = admin_client.post(url, {"action": "ban", "reason": "Repeated abuse"})

    assert response.status_code == 302
    commenter.refresh_from_db()
    assert commenter.is_banned and commenter.banned_reason == "Repeated abuse"
    assert set(BannedClient.objects.values_list("client_hash", flat=True)) == {"h1", "h2"}
    ban = ModerationLogEntry.objects.get(action="ban")
    assert (ban.commenter_id, ban.actor_id, ban.reason) == (
        commenter.pk,
        admin_user.pk,
        "Repeated abuse",
    )
    assert "Lift the ban" in admin_client.get(url).content.decode()

    admin_client.post(url, {"action": "unban", "reason": "Apologised"})

    commenter.refresh_from_db()
    assert not commenter.is_banned
    assert not BannedClient.objects.exists()
    assert ModerationLogEntry.objects.filter(action="unban", actor=admin_user, reason="Apologised").exists()


def test_moderation_log_lists_who_did_what(admin_client, admin_user, thread):
    admin_user.first_name, admin_user.last_name = "Mona", "Moderator"
    admin_user.save()
    reply = make_reply(thread, body="Logged reply")
    services.set_status(reply, Reply.Status.TRASH, actor=admin_user, reason="Off topic")

    html = admin_client.get(reverse("speakout_moderation:log")).content.decode()

    assert "Mona Moderator" in html
    assert "Moved to trash" in html
    assert "Off topic" in html
    assert "Logged reply" in html
    assert commenter_url(reply.commenter) in html


def test_discussion_settings_are_editable(admin_client):
    url = reverse("speakout_moderation:settings")
    rules = DiscussionSettings.load()
    data = {
        "require_name_email": "on",
        "hold_first_reply": "",
        "hold_link_count": 3,
        "hold_words": "casino\nlottery",
        "block_words": "",
        "auto_close_days": 30,
        "max_depth": 4,
        "edit_window_minutes": 10,
        "replies_per_page": 25,
        "newest_first": "on",
        "moderator_alerts": "off",
    }

    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, data)

    assert response.status_code == 302
    rules = DiscussionSettings.load()
    assert rules.pk == 1 and DiscussionSettings.objects.count() == 1
    assert rules.hold_word_list == ["casino", "lottery"]
    assert (rules.hold_first_reply, rules.newest_first, rules.auto_close_days) == (False, True, 30)

    invalid = admin_client.post(url, {**data, "max_depth": "many"})
    assert invalid.status_code == 200
    assert DiscussionSettings.load().max_depth == 4


# Hostile content ---------------------------------------------------------------------------------


def assert_harmless(html: str, where: str) -> None:
    assert "<script>alert(1)" not in html, where
    assert "<img src=x onerror" not in html, where
    assert not re.search(r"""href\s*=\s*["']?\s*javascript:""", html, re.IGNORECASE), where


def test_hostile_content_renders_harmlessly_everywhere(admin_client, admin_user, django_user_model):
    """Markup in names, websites, bodies, reasons, notes and titles is shown as text on
    every screen, even when the stored HTML itself is hostile (a faulty import)."""
    admin_user.first_name = IMG
    admin_user.save()
    thread = services.get_or_create_thread("hostile", url=JS_URL, title=f"{SCRIPT}{IMG}")
    Commenter.objects.create(email="evil@example.org", display_name=SCRIPT + IMG, website=JS_URL)
    hostile = {
        "name": f"{SCRIPT}{IMG}"[:100],
        "email": "evil@example.org",
        "website": JS_URL,
        "body": f"{SCRIPT} {IMG} [click me]({JS_URL}) and more text " + "x" * 400,
        "body_html": f'<p>{SCRIPT}<img src=x onerror=alert(1)><a href="{JS_URL}">click</a></p>',
        "reason": f"{SCRIPT}{IMG}",
    }
    replies = {status: make_reply(thread, status=status, **hostile) for status in Reply.Status.values}
    Flag.objects.create(reply=replies["approved"], reason=Flag.Reason.OTHER, note=SCRIPT + IMG)
    services.set_status(make_reply(thread, **hostile), "trash", actor=admin_user, reason=SCRIPT + IMG)
    commenter = Commenter.objects.get(email="evil@example.org")
    services.ban_commenter(commenter, actor=admin_user, reason=SCRIPT + IMG)

    pages = {url: admin_client.get(url) for url in all_screens(replies["pending"])}
    pages["search"] = admin_client.get(queue_url("pending"), {"q": "<script>"})
    pages["confirm"] = admin_client.post(queue_url("spam"), {"action": "delete", "ids": [replies["spam"].pk]})
    pages["home"] = admin_client.get(reverse("wagtailadmin_home"))
    pages["after action"] = admin_client.post(
        queue_url("pending"),
        {"action": "spam", "ids": [replies["pending"].pk], "reason": SCRIPT},
        follow=True,
    )

    for where, response in pages.items():
        assert response.status_code == 200, where
        assert_harmless(response.content.decode(), where)
    queue_html = pages[queue_url("pending")].content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in queue_html, "the markup is shown, as text"
    assert "&lt;img src=x onerror=alert(1)&gt;" in queue_html
    assert "javascript:alert(1)" in queue_html, "the website is shown as text, not as a link"
    assert row_ids(pages["search"].content.decode()) == {replies["pending"].pk}


def test_admin_pages_load_no_gravatar(admin_client, thread):
    """A moderator's email is never hashed into a request to a third party (Gravatar): the admin
    shows Wagtail's local placeholder avatar instead."""
    make_reply(thread, status=Reply.Status.PENDING)
    for path in ("/admin/", queue_url("pending"), "/admin/account/"):
        response = admin_client.get(path, follow=True)
        assert response.status_code == 200, path
        assert "gravatar" not in response.content.decode().lower(), path
