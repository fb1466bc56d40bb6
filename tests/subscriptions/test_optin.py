"""Double opt-in: one confirmation mail and nothing else until the address confirms by POST; an
unconfirmed request expires; the follow form answers the same whatever the address's state."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from speakout.discussion.forms import issue_form_token
from speakout.subscriptions import jobs, services
from speakout.subscriptions.models import Subscription
from tests.subscriptions.helpers import link_path, mails_to

pytestmark = pytest.mark.django_db


def test_request_queues_one_confirmation_and_nothing_else_until_confirmed(thread, post_reply, subscribe):
    subscription = subscribe("Ada@Example.org ", thread=thread, confirmed=False)
    assert subscription.email == "ada@example.org"
    [confirmation] = mails_to("ada@example.org")
    assert "confirm" in confirmation.subject.lower()
    assert "List-Unsubscribe" not in confirmation.headers
    assert "/subscriptions/confirm/" in confirmation.text_body and "/subscriptions/confirm/" in confirmation.html_body
    # A second request reuses the row and sends no second confirmation.
    again = services.request_subscription("ada@example.org", kind="thread", thread=thread)
    assert again.pk == subscription.pk
    # Approved replies do not reach the unconfirmed address.
    assert post_reply(thread, email="bob@example.org").outcome == "published"
    assert len(mails_to("ada@example.org")) == 1
    assert Subscription.objects.count() == 1


def test_confirmation_link_get_changes_nothing_post_confirms(client, thread, post_reply, subscribe):
    subscribe("ada@example.org", thread=thread, confirmed=False)
    path = link_path(mails_to("ada@example.org")[0].text_body, "confirm")
    page = client.get(path)
    assert page.status_code == 200 and b'<form method="post"' in page.content
    assert Subscription.objects.get().confirmed_at is None
    response = client.post(path)
    assert response.status_code == 200
    assert Subscription.objects.get().confirmed_at is not None
    post_reply(thread, email="bob@example.org")
    assert len(mails_to("ada@example.org")) == 2


def test_forged_or_foreign_tokens_are_refused(client, thread, subscribe):
    subscription = subscribe("ada@example.org", thread=thread, confirmed=False)
    path = link_path(mails_to("ada@example.org")[0].text_body, "confirm")
    assert client.post(path[:-3] + "xx/").status_code == 400
    # An unsubscribe token does not confirm, and a confirm token does not unsubscribe.
    assert client.post(path.replace("/confirm/", "/unsubscribe/")).status_code == 400
    subscription.refresh_from_db()
    assert subscription.confirmed_at is None and subscription.unsubscribed_at is None


def test_unconfirmed_requests_expire(client, thread, subscribe):
    old = subscribe("old@example.org", thread=thread, confirmed=False)
    fresh = subscribe("fresh@example.org", thread=thread, confirmed=False)
    kept = subscribe("kept@example.org", thread=thread)
    path = link_path(mails_to("old@example.org")[0].text_body, "confirm")
    eight_days_ago = timezone.now() - timedelta(days=8)
    Subscription.objects.filter(pk__in=[old.pk, kept.pk]).update(created_at=eight_days_ago)
    assert client.post(path).status_code == 400  # too old to confirm, even before the job runs
    jobs.delete_expired_requests()
    assert set(Subscription.objects.values_list("pk", flat=True)) == {fresh.pk, kept.pk}
    assert client.post(path).status_code == 400
    from speakout.worker import scheduled_jobs

    names = [name for name, _every, _path in scheduled_jobs()]
    assert "subscriptions_expire_requests" in names


def follow_data(thread, email, **extra):
    data = {
        "thread": thread.key,
        "email": email,
        "notify_replies": "on",
        "form_token": issue_form_token(thread.key, issued_at=time.time() - 10),
        "homepage": "",
    }
    data.update(extra)
    return data


def _normalise(content: bytes) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", content.decode())


def test_follow_form_answers_the_same_for_new_pending_and_confirmed_addresses(thread, subscribe):
    subscribe("confirmed@example.org", thread=thread)
    subscribe("pending@example.org", thread=thread, confirmed=False)
    responses = {}
    for email in ("new@example.org", "pending@example.org", "confirmed@example.org"):
        client = Client()
        responses[email] = client.post("/subscriptions/follow/", follow_data(thread, email))
        assert responses[email].status_code == 200
    bodies = {_normalise(response.content) for response in responses.values()}
    assert len(bodies) == 1
    assert len(mails_to("new@example.org")) == 1
    assert len(mails_to("pending@example.org")) == 1  # still its one confirmation
    assert len(mails_to("confirmed@example.org")) == 0  # already subscribed: nothing new


def test_follow_form_for_new_posts_with_a_digest(client, thread):
    data = follow_data(thread, "ada@example.org", notify_replies="", notify_posts="on", frequency="weekly")
    assert client.post("/subscriptions/follow/", data).status_code == 200
    subscription = Subscription.objects.get()
    assert (subscription.kind, subscription.frequency, subscription.thread) == ("posts", "weekly", None)


def test_follow_form_traps(client, thread):
    honeypot = client.post("/subscriptions/follow/", follow_data(thread, "bot@example.org", homepage="x"))
    normal = Client().post("/subscriptions/follow/", follow_data(thread, "human@example.org"))
    assert honeypot.status_code == 200 and _normalise(honeypot.content) == _normalise(normal.content)
    assert not mails_to("bot@example.org")
    assert client.post("/subscriptions/follow/", follow_data(thread, "not-an-address")).status_code == 400
    assert client.get("/subscriptions/follow/").status_code == 405
    assert not Subscription.objects.filter(email__in=["bot@example.org"]).exists()


def test_an_autofilled_follow_form_sent_at_once_goes_through(client, thread):
    """Autofill fills the address in a second: no minimum time, the confirmation mail is the
    proof (and the honeypot and the rate limit stop robots)."""
    quick = follow_data(thread, "fast@example.org", form_token=issue_form_token(thread.key, time.time() - 1.5))
    response = client.post("/subscriptions/follow/", quick)
    assert response.status_code == 200 and "quick" not in response.content.decode()
    assert Subscription.objects.filter(email="fast@example.org").exists()


def test_follow_form_stops_a_client_past_its_limit_and_keeps_what_was_typed(thread, settings):
    """A client past ``SPEAKOUT_SUBSCRIPTIONS_FOLLOW_LIMIT`` is told so, with the form as typed,
    and no confirmation goes out: the limit is what keeps one client from mailing a list of
    strangers."""
    settings.SPEAKOUT_SUBSCRIPTIONS_FOLLOW_LIMIT = (2, 3600)
    client = Client()
    for n in (1, 2):
        assert client.post("/subscriptions/follow/", follow_data(thread, f"a{n}@example.org")).status_code == 200
    refused = client.post("/subscriptions/follow/", follow_data(thread, "a3@example.org"))
    assert refused.status_code == 429
    assert "Too many requests" in refused.content.decode() and 'value="a3@example.org"' in refused.content.decode()
    assert not mails_to("a3@example.org")
    assert not Subscription.objects.filter(email="a3@example.org").exists()


def test_report_page_shows_the_follow_form_after_the_discussion(client, site_builder):
    report = site_builder.report("Followed")
    html = client.get(report.url).content.decode()
    assert 'action="/subscriptions/follow/"' in html
    assert html.index('id="respond"') < html.index('id="follow"')
