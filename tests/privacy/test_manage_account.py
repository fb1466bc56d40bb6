"""Manage my replies, signed in: the same page without the email link, plus deleting the account."""

import json
import uuid

import pytest

from speakout.discussion.models import Commenter, Reply
from speakout.discussion.services import Author
from speakout.outbox.models import OutgoingMail
from speakout.subscriptions.models import Subscription
from tests.privacy.helpers import verify

pytestmark = pytest.mark.django_db

ACCOUNT_EMAIL = "sam@example.org"


@pytest.fixture
def member(django_user_model):
    user = django_user_model.objects.create_user("sam", ACCOUNT_EMAIL, "a long password", first_name="Sam")
    verify(user, ACCOUNT_EMAIL)
    return user


@pytest.fixture
def member_replies(member, thread, other_thread, reply_as, post_reply, settings):
    """A guest reply sent with the account's address before signing up, a reply sent signed in,
    and someone else's reply."""
    guest = reply_as(thread, email=ACCOUNT_EMAIL, body="Before I had an account.")
    signed = post_reply(other_thread, author=Author(user=member, client_hash=uuid.uuid4().hex), body="Signed in.")
    assert signed.ok, signed.errors
    other = reply_as(thread, email="other@example.org", body="Someone else.")
    return guest, signed.reply, other


def test_account_page_needs_a_sign_in(client):
    response = client.get("/privacy/my-data/")
    assert response.status_code == 302
    assert "next=/privacy/my-data/" in response["Location"]


def test_account_page_lists_the_accounts_replies_without_a_link(client, member, member_replies):
    guest, signed, other = member_replies
    client.force_login(member)
    html = client.get("/privacy/my-data/").content.decode()
    assert "Before I had an account." in html and "Signed in." in html
    assert "Someone else." not in html
    assert "/privacy/my-data/delete-account/" in html
    assert OutgoingMail.objects.count() == 0  # no link was needed


def test_account_actions_work_like_the_guest_ones(client, member, member_replies, subscribe):
    guest, signed, other = member_replies
    subscribe(ACCOUNT_EMAIL)
    client.force_login(member)
    response = client.post(f"/privacy/my-data/reply/{signed.pk}/edit/", {"body": "Edited **signed**."})
    assert response.status_code == 303
    signed.refresh_from_db()
    assert "<strong>signed</strong>" in signed.body_html

    assert client.post(f"/privacy/my-data/reply/{guest.pk}/anonymise/").status_code == 303
    guest.refresh_from_db()
    assert guest.commenter_id is None and guest.author_name == "Anonymous"

    assert client.post(f"/privacy/my-data/reply/{other.pk}/delete/").status_code == 404
    assert client.post(f"/privacy/my-data/reply/{signed.pk}/delete/").status_code == 303
    assert not Reply.objects.filter(pk=signed.pk).exists()

    assert client.post("/privacy/my-data/stop-notifications/").status_code == 303
    assert not Subscription.objects.filter(email=ACCOUNT_EMAIL, unsubscribed_at__isnull=True).exists()

    data = json.loads(client.get("/privacy/my-data/export.json").content)
    assert data["account"]["username"] == "sam"
    assert data["emails"] == [ACCOUNT_EMAIL]


@pytest.mark.parametrize("choice", ["anonymise", "delete"])
def test_delete_account_asks_first_then_deletes_it_and_its_replies_as_chosen(
    client, member, member_replies, subscribe, django_user_model, choice
):
    guest, signed, other = member_replies
    subscribe(ACCOUNT_EMAIL)
    client.force_login(member)
    page = client.get("/privacy/my-data/delete-account/")
    assert page.status_code == 200 and 'name="confirm"' in page.content.decode()
    unconfirmed = client.post("/privacy/my-data/delete-account/", {"replies": choice})
    assert unconfirmed.status_code == 400
    assert django_user_model.objects.filter(pk=member.pk).exists()

    response = client.post("/privacy/my-data/delete-account/", {"replies": choice, "confirm": "on"})
    assert response.status_code == 200
    assert not django_user_model.objects.filter(pk=member.pk).exists()
    assert "_auth_user_id" not in client.session
    if choice == "delete":
        assert not Reply.objects.filter(pk__in=[guest.pk, signed.pk]).exists()
    else:
        for reply in Reply.objects.filter(pk__in=[guest.pk, signed.pk]):
            assert reply.author_name == "Anonymous" and reply.commenter_id is None and reply.user_id is None
    assert Reply.objects.get(pk=other.pk).author_name == "Robin"
    assert not Subscription.objects.filter(email=ACCOUNT_EMAIL).exists()
    assert not Commenter.objects.filter(email=ACCOUNT_EMAIL, forget_requested_at__isnull=True).exists()


def test_staff_accounts_are_not_deleted_from_here(client, django_user_model):
    staff = django_user_model.objects.create_user("editor", "editor@example.org", "a long password", is_staff=True)
    client.force_login(staff)
    response = client.post("/privacy/my-data/delete-account/", {"replies": "delete", "confirm": "on"})
    assert response.status_code == 403
    assert django_user_model.objects.filter(pk=staff.pk).exists()


def test_request_page_points_signed_in_readers_to_their_account(client, member):
    client.force_login(member)
    assert "/privacy/my-data/" in client.get("/privacy/my-replies/").content.decode()


def test_export_names_the_pseudonym_mark_on_the_account(client, member, member_replies):
    """The download holds the mark "reply under a pseudonym" left on the account (when it was
    made and whether the migration inferred it), and says so plainly when there is none."""
    from speakout.identity.models import PseudonymAccount

    client.force_login(member)
    data = json.loads(client.get("/privacy/my-data/export.json").content)
    assert data["account"]["pseudonym"] is None

    mark = PseudonymAccount.objects.create(user=member, inferred=True)
    data = json.loads(client.get("/privacy/my-data/export.json").content)
    assert data["account"]["pseudonym"] == {"marked_at": mark.created_at.isoformat(), "inferred": True}
