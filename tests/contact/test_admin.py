"""The "Contact messages" inbox in the Wagtail admin."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from speakout.contact.models import ContactMessage

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert('x')</script>"
DENIED = (302, 403)


@pytest.fixture
def messages(contact_page):
    return [
        ContactMessage.objects.create(
            page=contact_page, name=HOSTILE, email="eve@example.net", topic="Press", message=f"{HOSTILE} hello"
        ),
        ContactMessage.objects.create(
            page=contact_page, name="Bob", email="bob@example.net", message='=HYPERLINK("http://x")'
        ),
    ]


@pytest.fixture
def admin(client, admin_user):
    client.force_login(admin_user)
    return client


def test_inbox_lists_messages_escaped_with_unread_markers(admin, messages):
    html = admin.get(reverse("speakout_contact:index")).content.decode()
    assert HOSTILE not in html
    assert "&lt;script&gt;" in html
    assert html.count("contact-unread") == 2
    assert "bob@example.net" in html


def test_menu_item_shows_the_unread_count(admin, messages):
    html = admin.get(reverse("wagtailadmin_home")).content.decode()
    assert "Contact messages (2)" in html


def test_a_get_of_a_message_changes_nothing(admin, messages):
    """Reading is marked by a POST only: an <img> on another site or a link prefetcher that
    loads the message's address must not hide a new message from the team."""
    message = messages[0]
    url = reverse("speakout_contact:message", args=[message.pk])
    for _ in range(2):
        response = admin.get(url)
        assert response.status_code == 200
    message.refresh_from_db()
    assert message.read_at is None
    html = admin.get(reverse("speakout_contact:index")).content.decode()
    assert html.count("contact-unread") == 2
    assert "Contact messages (2)" in admin.get(reverse("wagtailadmin_home")).content.decode()
    assert 'value="read"' in response.content.decode(), "the page offers to mark it read"


def test_the_inbox_opens_a_message_by_a_post_that_marks_it_read(admin, messages):
    """The inbox's link to a message is a form: one press marks it read and shows it."""
    message = messages[0]
    url = reverse("speakout_contact:message", args=[message.pk])
    inbox = admin.get(reverse("speakout_contact:index")).content.decode()
    assert f'action="{url}"' in inbox and 'name="action" value="open"' in inbox
    response = admin.post(url, {"action": "open"})
    assert response.status_code == 302 and response["Location"] == url
    message.refresh_from_db()
    assert message.read_at is not None
    assert "Contact messages (1)" in admin.get(reverse("wagtailadmin_home")).content.decode()
    first_read = message.read_at
    admin.post(url, {"action": "open"})
    message.refresh_from_db()
    assert message.read_at == first_read, "opening again keeps the first reading"


def test_read_then_unread_archive_and_delete(admin, messages):
    message = messages[0]
    url = reverse("speakout_contact:message", args=[message.pk])
    html = admin.get(url).content.decode()
    assert HOSTILE not in html and "&lt;script&gt;" in html
    assert admin.post(url, {"action": "read"}).status_code == 302
    message.refresh_from_db()
    assert message.read_at is not None

    assert admin.post(url, {"action": "unread"}).status_code == 302
    message.refresh_from_db()
    assert message.read_at is None

    admin.post(url, {"action": "archive"})
    message.refresh_from_db()
    assert message.archived
    inbox = admin.get(reverse("speakout_contact:index")).content.decode()
    assert f'message-{message.pk}"' not in inbox
    archived = admin.get(reverse("speakout_contact:index") + "?folder=archived").content.decode()
    assert f'message-{message.pk}"' in archived

    delete_url = reverse("speakout_contact:delete", args=[message.pk])
    confirm = admin.get(delete_url)
    assert confirm.status_code == 200 and ContactMessage.objects.filter(pk=message.pk).exists()
    assert "&lt;script&gt;" in confirm.content.decode() and HOSTILE not in confirm.content.decode()
    assert admin.post(delete_url).status_code == 302
    assert not ContactMessage.objects.filter(pk=message.pk).exists()


def test_export_csv_of_the_listed_messages(admin, messages):
    messages[1].archived = True
    messages[1].save()
    response = admin.get(reverse("speakout_contact:export") + "?folder=inbox")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:5] == ["received", "name", "email", "topic", "message"]
    assert [row[2] for row in rows[1:]] == ["eve@example.net"]

    archived = admin.get(reverse("speakout_contact:export") + "?folder=archived").content.decode()
    rows = list(csv.reader(io.StringIO(archived)))
    assert rows[1][4] == '\'=HYPERLINK("http://x")', "formulas are neutralised"


def test_permissions(client, django_user_model, messages):
    user = django_user_model.objects.create_user("editor", password="x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(user)
    index = reverse("speakout_contact:index")
    message_url = reverse("speakout_contact:message", args=[messages[0].pk])
    # Wagtail's admin turns PermissionDenied into a redirect to the dashboard with a message.
    assert client.get(index).status_code in DENIED
    assert client.get(reverse("speakout_contact:export")).status_code in DENIED
    assert "Contact messages" not in client.get(reverse("wagtailadmin_home")).content.decode()

    user.user_permissions.add(Permission.objects.get(codename="view_contactmessage"))
    user = django_user_model.objects.get(pk=user.pk)
    client.force_login(user)
    assert client.get(index).status_code == 200
    assert client.get(message_url).status_code == 200
    assert ContactMessage.objects.get(pk=messages[0].pk).read_at is None, "viewing alone changes nothing"
    assert client.post(message_url, {"action": "archive"}).status_code in DENIED
    assert not ContactMessage.objects.get(pk=messages[0].pk).archived
    delete_url = reverse("speakout_contact:delete", args=[messages[0].pk])
    assert client.post(delete_url).status_code in DENIED
    assert ContactMessage.objects.filter(pk=messages[0].pk).exists()


def test_a_held_message_can_be_passed_on_once(admin, contact_page):
    from speakout.outbox.models import OutgoingMail

    held = ContactMessage.objects.create(
        page=contact_page, name="Kim", email="kim@example.net", message="Genuine", is_spam=True, spam_reason="honeypot"
    )
    url = reverse("speakout_contact:message", args=[held.pk])
    assert "Not spam: pass it on" in admin.get(url).content.decode()
    admin.post(url, {"action": "release"})
    admin.post(url, {"action": "release"})
    held.refresh_from_db()
    assert not held.is_spam
    assert sorted(OutgoingMail.objects.values_list("to", flat=True)) == ["board@org.example", "team@org.example"]
    assert "Not spam: pass it on" not in admin.get(url).content.decode()


def test_a_message_has_a_mailto_answer_link(admin, messages):
    html = admin.get(reverse("speakout_contact:message", args=[messages[1].pk])).content.decode()
    assert 'href="mailto:bob@example.net?subject=Re%3A%20' in html
