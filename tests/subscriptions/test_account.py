"""A signed-in reader's own subscriptions page (/subscriptions/mine/): only their proved
addresses, every change a POST, no confirmation mail for an address the account has proved."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from speakout.outbox.models import OutgoingMail
from speakout.subscriptions.models import Subscription

pytestmark = pytest.mark.django_db

URL = "/subscriptions/mine/"


@pytest.fixture
def reader(db):
    from allauth.account.models import EmailAddress

    user = get_user_model().objects.create_user("rey", "Rey@Example.org", "x")
    EmailAddress.objects.create(user=user, email="Rey@Example.org", verified=True, primary=True)
    return user


def test_signing_in_is_required(client):
    response = client.get(URL)
    assert response.status_code == 302 and "login" in response["Location"]


def test_lists_only_the_readers_own_subscriptions_and_stops_one_by_post(client, reader, thread, subscribe):
    mine = subscribe("rey@example.org", thread=thread)
    theirs = subscribe("sam@example.org", thread=thread)
    client.force_login(reader)
    page = client.get(URL).content.decode()
    assert "A test report" in page and "rey@example.org" in page
    assert "sam@example.org" not in page

    # Someone else's subscription id changes nothing.
    client.post(URL, {"action": "stop", "subscription": theirs.pk})
    theirs.refresh_from_db()
    assert theirs.unsubscribed_at is None

    client.post(URL, {"action": "stop", "subscription": mine.pk})
    mine.refresh_from_db()
    assert mine.unsubscribed_at is not None
    assert "A test report" not in client.get(URL).content.decode()


def test_following_new_posts_from_the_account_needs_no_confirmation_mail(client, reader):
    client.force_login(reader)
    response = client.post(URL, {"action": "follow_posts", "frequency": "weekly"})
    assert response.status_code == 302
    [subscription] = Subscription.objects.filter(email="rey@example.org")
    assert subscription.is_active and subscription.frequency == "weekly" and subscription.kind == "posts"
    assert OutgoingMail.objects.count() == 0

    client.post(URL, {"action": "frequency", "subscription": subscription.pk, "frequency": "daily"})
    subscription.refresh_from_db()
    assert subscription.frequency == "daily"
    client.post(URL, {"action": "frequency", "subscription": subscription.pk, "frequency": "hourly"})
    subscription.refresh_from_db()
    assert subscription.frequency == "daily", "an unknown frequency changes nothing"


def test_a_pending_request_for_the_accounts_address_is_confirmed_by_following_from_the_account(client, reader):
    from speakout.subscriptions import services

    pending = services.request_subscription("rey@example.org", kind=services.Kind.POSTS)
    assert not pending.is_active
    client.force_login(reader)
    client.post(URL, {"action": "follow_posts", "frequency": "instant"})
    pending.refresh_from_db()
    assert pending.is_active


def test_stop_all_stops_every_subscription_of_the_readers_addresses(client, reader, thread, subscribe):
    subscribe("rey@example.org", thread=thread)
    subscribe("rey@example.org")
    other = subscribe("sam@example.org")
    client.force_login(reader)
    client.post(URL, {"action": "stop_all"})
    assert not Subscription.objects.filter(email="rey@example.org", unsubscribed_at__isnull=True).exists()
    other.refresh_from_db()
    assert other.unsubscribed_at is None


def test_a_get_changes_nothing(client, reader, thread, subscribe):
    subscription = subscribe("rey@example.org", thread=thread)
    client.force_login(reader)
    client.get(URL, {"action": "stop_all", "subscription": subscription.pk})
    subscription.refresh_from_db()
    assert subscription.unsubscribed_at is None


def test_with_allauth_only_verified_addresses_count(client, reader, thread, subscribe):
    """An address added to the account but not yet verified gives no view of its subscriptions."""
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=reader, email="claimed@example.org", verified=False, primary=False)
    subscribe("rey@example.org", thread=thread)
    subscribe("claimed@example.org")
    client.force_login(reader)
    page = client.get(URL).content.decode()
    assert "rey@example.org" in page
    assert "claimed@example.org" not in page
