"""A Note or an Article taken back (a reply anonymised, a report made private) stays taken back:
no Create or Update still waiting for its retry is sent after its Delete."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from speakout.discussion.services import Author, submit_reply
from speakout.federation import delivery
from speakout.federation.models import Delivery

from .helpers import make_user

pytestmark = pytest.mark.django_db


def _first_attempt_failed(kind: str) -> None:
    """The remote server was down for the first attempt of ``kind``: it waits for its retry."""
    Delivery.objects.filter(status=Delivery.Status.PENDING, payload__type=kind).update(
        attempts=1, next_attempt_at=timezone.now() + timedelta(minutes=30)
    )


def _later() -> None:
    """Time passes: every waiting retry is due."""
    Delivery.objects.filter(status=Delivery.Status.PENDING).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


def test_a_note_retried_after_its_delete_puts_the_anonymised_writer_s_name_back_on_the_fediverse(member_replies, wire):
    from speakout.privacy import services as privacy

    report, thread = member_replies
    Delivery.objects.all().delete()  # the report's own Create
    member = make_user("ines")
    data = {"thread": thread.key, "body": "Signed with my name.", "federate": True}
    reply = submit_reply(thread=thread, data=data, author=Author(user=member), checks=[], check_form_token=False).stored
    _first_attempt_failed("Create")
    assert privacy.anonymise(privacy.Owner.for_user(member), reply)  # Delete queued, due now
    delivery.deliver_due()
    _later()
    delivery.deliver_due()
    kinds = [activity["type"] for activity in wire]
    # The follower's server must end without the Note: nothing about it may arrive after its Delete.
    assert "Delete" in kinds
    after = kinds[kinds.index("Delete") + 1 :]
    assert after == [], f"sent after the Delete: {after} (the Note with the byline '— Ines' comes back)"


def test_a_report_s_create_retried_after_it_was_made_private_republishes_it(member_replies, wire, site_builder):
    from wagtail.models import PageViewRestriction

    # A second report whose Create is still waiting for its retry when it is made private.
    report = site_builder.report("Names of the witnesses", standfirst="Only for members.")
    _first_attempt_failed("Create")
    Delivery.objects.filter(status=Delivery.Status.PENDING).exclude(
        payload__object__name="Names of the witnesses"
    ).delete()
    PageViewRestriction.objects.create(page=report, restriction_type=PageViewRestriction.LOGIN)
    assert Delivery.objects.filter(payload__type="Delete").exists()
    delivery.deliver_due()
    _later()
    delivery.deliver_due()
    kinds = [activity["type"] for activity in wire]
    assert "Delete" in kinds
    after = [a for a in wire[kinds.index("Delete") + 1 :]]
    assert after == [], "the private report's Article was sent after its Delete: " + ", ".join(
        f"{a['type']}({a['object'].get('name', '')})" for a in after
    )


def test_an_anonymised_note_leaves_no_stored_copy_of_its_byline_or_earlier_words(member_replies, wire):
    """The federation outbox keeps each activity it sent: a member's Note (byline and text) and
    the Update of each edit. Once the writer anonymises the reply, its Delete goes out and no
    stored Create or Update keeps their name or the words they edited away."""
    from speakout.discussion.services import edit_reply
    from speakout.privacy import services as privacy

    _report, thread = member_replies
    Delivery.objects.all().delete()  # the report's own Create
    member = make_user("ines")
    data = {"thread": thread.key, "body": "First words, signed Ines of the third floor.", "federate": True}
    reply = submit_reply(thread=thread, data=data, author=Author(user=member), checks=[], check_form_token=False).stored
    byline = f"\u2014 {reply.author_name}"
    delivery.deliver_due()
    assert edit_reply(reply, "Second words.", Author(user=member)).ok
    _first_attempt_failed("Update")  # one still waits for its retry
    owed = [row.payload for row in Delivery.objects.filter(payload__type__in=["Create", "Update"])]
    assert {"Create", "Update"} <= {p["type"] for p in owed} and all(byline in str(p) for p in owed)

    assert privacy.anonymise(privacy.Owner.for_user(member), reply)

    stored = [row.payload for row in Delivery.objects.all()]
    assert [p for p in stored if byline in str(p) or "third floor" in str(p)] == []
    assert any(p["type"] == "Delete" for p in stored)
