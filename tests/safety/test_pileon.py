"""Pile-on brakes end to end: the reply form and the JSON API, the held reply's reason, the
moderators' mail and the admin's queue and settings (speakout/safety/pileon.py)."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from speakout.discussion.models import DiscussionSettings, Reply
from speakout.outbox.models import OutgoingMail
from speakout.safety.models import SafetySettings
from tests.discussion.helpers import form_data

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture(autouse=True)
def no_rate_limit(settings):
    """Many writers share the test client's address here; the rate limit is tested elsewhere."""
    settings.SPEAKOUT_DISCUSSION_SECONDS_BETWEEN_REPLIES = 0
    settings.SPEAKOUT_DISCUSSION_BURST_LIMIT = (0, 600)
    settings.BASE_URL = "http://testserver"


@pytest.fixture
def moderator(db):
    return get_user_model().objects.create_superuser("moira", "moira@example.org", "x")


def post(client, thread, **fields):
    """A reply through the enhanced HTML form; the JSON answer says published or held. Each
    address writes from its own browser: a browser's guest cookie is what proves who writes."""
    browser = client
    if "email" in fields:
        browser = client.__dict__.setdefault("browsers", {}).setdefault(fields["email"], Client())
    return browser.post("/discussion/post/", form_data(thread, **fields), **JSON)


def alice_reply(client, thread, **fields):
    fields = {"name": "Alice", "email": "alice@example.org", "body": "What I lived through.", **fields}
    response = post(client, thread, **fields)
    assert response.json()["outcome"] == "published"
    return Reply.objects.get(pk=response.json()["id"])


def test_only_approved_commenters_may_reply_holds_newcomers_with_the_reason(client, thread, rules):
    """The writer's choice is stored with her reply; a newcomer's answer waits for review (and the
    newcomer is told it is held), while a commenter with an approved reply is published at once."""
    target = alice_reply(client, thread, approved_repliers_only="on")
    assert target.approved_repliers_only is True

    response = post(client, thread, parent=target.pk, name="Newcomer", email="new@example.org", body="You're wrong.")
    assert response.status_code == 201 and response.json()["outcome"] == "held"
    held = Reply.objects.get(pk=response.json()["id"])
    assert held.status == Reply.Status.PENDING
    assert held.moderation_reason == "The person answered accepts replies only from approved commenters."

    post(client, thread, name="Regular", email="regular@example.org", body="An earlier, approved reply.")
    response = post(client, thread, parent=target.pk, name="Regular", email="regular@example.org", body="Agreed.")
    assert response.json()["outcome"] == "published"

    # Her own follow-up, and replies to a reply without the choice, are not held.
    assert (
        post(client, thread, parent=target.pk, name="Alice", email="alice@example.org", body="Thanks.").json()[
            "outcome"
        ]
        == "published"
    )
    open_reply = alice_reply(client, thread, body="Another point.")
    assert (
        post(client, thread, parent=open_reply.pk, name="Other", email="o@example.org", body="Hm.").json()["outcome"]
        == "published"
    )


def test_the_form_offers_the_choice_and_the_api_takes_it(client, thread, rules):
    from tests.discussion.helpers import old_form_token as form_token

    body = {
        "name": "Ana",
        "email": "ana@example.org",
        "body": "Mine.",
        "form_token": form_token(thread.key),
        "approved_repliers_only": True,
    }
    response = client.post(f"/api/threads/{thread.key}/replies", json.dumps(body), content_type="application/json")
    assert response.status_code == 201
    target = Reply.objects.get()
    assert target.approved_repliers_only is True

    body = {**body, "email": "troll@example.org", "name": "T", "body": "Go away.", "parent": target.pk}
    body.pop("approved_repliers_only")
    response = client.post(f"/api/threads/{thread.key}/replies", json.dumps(body), content_type="application/json")
    assert response.json()["outcome"] == "held"

    # The HTML form shows the box (a bad submission comes back with the form).
    html = client.post("/discussion/post/", form_data(thread, body="")).content.decode()
    assert 'name="approved_repliers_only"' in html and "Only approved commenters may reply to me" in html


def test_a_burst_aimed_at_one_person_is_braked_and_moderators_are_told_once(client, thread, rules, moderator):
    settings_row = SafetySettings.load()
    settings_row.pile_on_replies = 3
    settings_row.pile_on_minutes = 10
    settings_row.save()
    target = alice_reply(client, thread)
    other = alice_reply(client, thread, name="Bea", email="bea@example.org", body="A second view.")

    outcomes = [
        post(client, thread, parent=target.pk, name=f"P{n}", email=f"p{n}@example.org", body=f"Reply {n}.").json()[
            "outcome"
        ]
        for n in range(5)
    ]
    assert outcomes == ["published"] * 3 + ["held"] * 2
    held = Reply.objects.filter(status=Reply.Status.PENDING).order_by("pk")
    assert [reply.moderation_reason for reply in held] == [
        "Pile-on brake: the person answered received 3 replies in the last 10 minutes.",
        "Pile-on brake: the person answered received 4 replies in the last 10 minutes.",
    ]
    # Someone else in the same thread is unaffected.
    assert (
        post(client, thread, parent=other.pk, name="Q", email="q@example.org", body="To Bea.").json()["outcome"]
        == "published"
    )

    pile_on_mail = OutgoingMail.objects.filter(subject__startswith="Many replies to one person")
    assert pile_on_mail.count() == 1
    mail = pile_on_mail.get()
    assert mail.to == "moira@example.org"
    assert "Alice received 3 replies on “A safety report” within 10 minutes." in mail.text_body
    assert "http://testserver/admin/replies/pending/" in mail.text_body

    # The moderator sees why in the queue.
    client.force_login(moderator)
    html = client.get(reverse("speakout_moderation:queue", args=["pending"])).content.decode()
    assert "Pile-on brake: the person answered received 3 replies in the last 10 minutes." in html


def test_staff_and_a_switched_off_brake_are_not_held(client, thread, rules, moderator):
    settings_row = SafetySettings.load()
    settings_row.pile_on_replies = 1
    settings_row.save()
    target = alice_reply(client, thread)
    assert (
        post(client, thread, parent=target.pk, name="P", email="p@example.org", body="One.").json()["outcome"]
        == "published"
    )
    assert (
        post(client, thread, parent=target.pk, name="Q", email="q@example.org", body="Two.").json()["outcome"] == "held"
    )

    client.force_login(moderator)
    assert post(client, thread, parent=target.pk, body="A moderator's note.").json()["outcome"] == "published"
    client.logout()

    settings_row.pile_on_replies = 0
    settings_row.save()
    assert (
        post(client, thread, parent=target.pk, name="R", email="r@example.org", body="Three.").json()["outcome"]
        == "published"
    )


def test_no_alert_mail_when_moderator_mail_is_off(client, thread, rules, moderator):
    settings_row = SafetySettings.load()
    settings_row.pile_on_replies = 1
    settings_row.save()
    discussion_rules = DiscussionSettings.load()
    discussion_rules.moderator_alerts = DiscussionSettings.ModeratorAlerts.OFF
    discussion_rules.save()
    target = alice_reply(client, thread)
    post(client, thread, parent=target.pk, name="P", email="p@example.org", body="One.")
    assert (
        post(client, thread, parent=target.pk, name="Q", email="q@example.org", body="Two.").json()["outcome"] == "held"
    )
    assert not OutgoingMail.objects.exists()


def test_moderators_set_the_brake_in_the_safety_settings(admin_client):
    url = reverse("speakout_moderation:safety")
    html = admin_client.get(url).content.decode()
    assert 'name="pile_on_replies"' in html and 'name="pile_on_minutes"' in html
    response = admin_client.post(
        url,
        {
            "personal_data_guard": "on",
            "spam_filter": "on",
            "spam_hold_score": 60,
            "spam_score": 95,
            "pile_on_replies": 6,
            "pile_on_minutes": 5,
        },
    )
    assert response.status_code == 302
    row = SafetySettings.load()
    assert (row.pile_on_replies, row.pile_on_minutes) == (6, 5)
    refused = {"spam_hold_score": 60, "spam_score": 95, "pile_on_replies": 6, "pile_on_minutes": 0}
    response = admin_client.post(url, refused)
    assert response.status_code == 200 and "pile_on_minutes" in response.content.decode()


def test_a_queued_pile_on_alert_naming_a_person_who_anonymised_their_reply_is_dropped(client, thread, rules, moderator):
    """Erasure: the alert names the person the burst answered; once they anonymise that reply, the
    alert not yet sent goes (the held replies still wait in the queue), and other mail stays."""
    from speakout.privacy.services import Owner, anonymise

    settings_row = SafetySettings.load()
    settings_row.pile_on_replies = 2
    settings_row.save()
    target = alice_reply(client, thread, name="Alice Hidalgo")
    for n in range(3):
        post(client, thread, parent=target.pk, name=f"P{n}", email=f"p{n}@example.org", body=f"Reply {n}.")
    pile_on_mail = OutgoingMail.objects.filter(subject__startswith="Many replies to one person")
    assert "Alice Hidalgo received 2 replies" in pile_on_mail.get().text_body
    others = set(OutgoingMail.objects.exclude(pk=pile_on_mail.get().pk).values_list("pk", flat=True))
    assert others, "the held reply's own alert"

    assert anonymise(Owner.for_email("alice@example.org"), Reply.objects.get(pk=target.pk))
    assert not pile_on_mail.exists()
    assert set(OutgoingMail.objects.values_list("pk", flat=True)) == others
    assert Reply.objects.filter(parent=target, status=Reply.Status.PENDING).exists()
