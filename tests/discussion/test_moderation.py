"""The moderation domain (speakout/discussion/moderation.py): the one door for a moderator's
decision, the signal other apps listen to, and the queues other apps can keep replies out of."""

from __future__ import annotations

import pytest
from django.db.models import Q

from speakout.discussion import moderation, signals
from speakout.discussion.models import Flag, ModerationLogEntry, Reply
from speakout.discussion.services import edit_reply, flag_reply

from .helpers import new_author, post, publishing_rules, report_thread

pytestmark = pytest.mark.django_db


@pytest.fixture
def decisions():
    """Every ``reply_moderated`` sent while the test runs, as (action, old, new, actor) tuples."""
    seen = []

    def receiver(sender, reply, old_status, new_status, actor, reason, action, **kwargs):
        seen.append((action, old_status, new_status, actor))

    signals.reply_moderated.connect(receiver, sender=Reply, dispatch_uid="test-moderation-decisions")
    yield seen
    signals.reply_moderated.disconnect(sender=Reply, dispatch_uid="test-moderation-decisions")


def test_approve_and_remove_send_reply_moderated_with_the_action(decisions, admin_user):
    held = post(report_thread()).stored
    assert held.status == Reply.Status.PENDING

    moderation.perform(moderation.ACTIONS["approve"], held, actor=admin_user, reason="fine")
    moderation.perform(moderation.ACTIONS["trash"], held, actor=admin_user)

    assert decisions == [
        ("approved", Reply.Status.PENDING, Reply.Status.APPROVED, admin_user),
        ("trash", Reply.Status.APPROVED, Reply.Status.TRASH, admin_user),
    ]
    assert [action.removes for action in moderation.ACTIONS.values()] == [False, False, False, True, True, False]


def test_delete_reaches_only_replies_out_of_sight():
    publishing_rules()
    published = post(report_thread()).stored

    assert moderation.perform(moderation.ACTIONS["delete"], published) == published
    assert Reply.objects.filter(pk=published.pk).exists()

    published = moderation.perform(moderation.ACTIONS["spam"], published)
    assert moderation.perform(moderation.ACTIONS["delete"], published) is None
    assert not Reply.objects.filter(pk=published.pk).exists()
    assert ModerationLogEntry.objects.filter(action="delete").count() == 1


def test_dismiss_keeps_the_reply_and_closes_its_reports(decisions):
    publishing_rules()
    reply = post(report_thread()).stored
    Flag.objects.create(reply=reply, reason="spam")
    assert moderation.queue_counts()["reported"] == 1

    assert moderation.perform(moderation.ACTIONS["dismiss"], reply) == reply

    assert moderation.queue_counts()["reported"] == 0
    assert Reply.objects.get(pk=reply.pk).status == Reply.Status.APPROVED
    assert decisions == []


def hidden_from_queues():
    return Q(body__contains="kept apart")


def test_another_app_keeps_replies_out_of_every_queue(settings):
    kept = post(report_thread(), body="This one is kept apart.", email="kept@example.org").stored
    shown = post(report_thread(), body="This one is shown.", email="shown@example.org").stored
    assert moderation.queue_counts()["pending"] == 2

    settings.SPEAKOUT_DISCUSSION_MODERATION_EXCLUDE = [f"{__name__}.hidden_from_queues"]

    assert moderation.queue_counts()["pending"] == 1
    assert list(moderation.QUEUES["pending"].queryset()) == [shown]
    assert kept.pk not in moderation.QUEUES["pending"].queryset().values_list("pk", flat=True)


# A report keeps the text it was about ---------------------------------------------------------


def test_an_author_s_edit_of_a_reported_reply_keeps_what_was_reported(rules, thread):
    """A reader reports a reply; within the edit window its author rewrites it. The report keeps
    the text it was about (rev-c's test_review_loss.py): the moderator who opens it, and an
    evidence hold sealed after it, can still see what was reported."""
    author = new_author()
    reply = post(thread, author=author, body="I know where you live, threat-marker.").stored
    flag = flag_reply(reply, Flag.Reason.HARASSMENT, note="", client_hash="reader-hash")

    edited = edit_reply(reply, "Sorry, I take that back.", author)

    assert edited.ok, edited.errors
    flag.refresh_from_db()
    assert flag.reported_body == "I know where you live, threat-marker."
    assert Reply.objects.get(pk=reply.pk).body == "Sorry, I take that back."
    assert flag.edited_since


def test_a_report_of_an_unchanged_reply_is_not_marked_as_edited(rules, thread):
    reply = post(thread, body="Plain words.").stored
    flag = flag_reply(reply, Flag.Reason.SPAM, client_hash="reader-hash")
    assert flag.reported_body == "Plain words." and not flag.edited_since
    # A report made before reports kept their text (blank) is not "edited" either.
    Flag.objects.filter(pk=flag.pk).update(reported_body="")
    assert not Flag.objects.get(pk=flag.pk).edited_since
