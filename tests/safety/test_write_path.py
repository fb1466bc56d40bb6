"""The safety checks on the write path (issue 7): what they keep between replies follows every
change at once, and a first-time writer, checked before being stored, is treated as before."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from speakout.discussion import services
from speakout.discussion.models import Reply
from speakout.safety import spam
from speakout.safety.models import ReplyAssessment, SafetySettings
from tests.discussion.helpers import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_rate_limit(settings):
    settings.SPEAKOUT_DISCUSSION_SECONDS_BETWEEN_REPLIES = 0
    settings.SPEAKOUT_DISCUSSION_BURST_LIMIT = (0, 600)


def submit(thread, **fields):
    return services.submit_reply(
        thread=thread,
        data=form_data(thread, **fields),
        author=services.Author(client_hash=uuid.uuid4().hex, guest_token=uuid.uuid4().hex),
    )


def trained_model(spam_words: str, ham_words: str) -> spam.NaiveBayes:
    model = spam.NaiveBayes()
    for _ in range(spam.MIN_DOCUMENTS):
        model.learn(spam.features(spam_words), spam=True)
        model.learn(spam.features(ham_words), spam=False)
    return model


def test_the_spam_model_is_read_once_and_again_only_when_it_changes(thread, rules):
    """Every reply is scored, but the model's row is read only after it was saved again."""
    spam.save_model(trained_model("cheap pills casino", "the council meeting on housing"))
    first = submit(thread, body="About the council meeting on housing.", email="a@example.org")
    assert first.reply.status == Reply.Status.APPROVED
    with CaptureQueriesContext(connection) as captured:
        second = submit(thread, body="Cheap pills and casino cheap pills casino.", email="b@example.org")
    assert not any("spammodel" in query["sql"] for query in captured.captured_queries)
    assert second.reply.status == Reply.Status.SPAM
    assert ReplyAssessment.objects.get(reply=second.reply).spam_score > 0.95

    # The moderators' decisions (or the nightly rebuild) save a new model: the next reply is
    # scored with it, in this process too.
    spam.save_model(trained_model("council meeting housing", "cheap pills casino"))
    third = submit(thread, body="Cheap pills and casino cheap pills casino.", email="c@example.org")
    assert third.reply.status == Reply.Status.APPROVED


def test_scoring_never_changes_the_shared_model(thread, rules):
    """The model kept for scoring is shared by the process; learning works on a fresh copy."""
    spam.save_model(trained_model("cheap pills casino", "the council meeting on housing"))
    shared = spam.scoring_model()
    documents = (shared.spam_documents, shared.ham_documents)
    fresh = spam.load_model()
    fresh.learn(spam.features("anything at all"), spam=True)
    assert fresh is not shared and (shared.spam_documents, shared.ham_documents) == documents


def test_safety_settings_changed_take_effect_on_the_next_reply(thread, rules, safety):
    """A protected name added in the safety settings (the admin saves the row) refuses the very
    next reply naming that person, and one removed lets it through."""
    assert submit(thread, body="Aisha Rahman spoke at the meeting.", email="a@example.org").outcome == "published"
    row = SafetySettings.load()
    row.protected_names += "\nAisha Rahman"
    row.save()
    refused = submit(thread, body="Aisha Rahman spoke at the meeting again.", email="b@example.org")
    assert refused.outcome == services.REJECTED and refused.code == "personal_data"
    row.personal_data_guard = False
    row.save()
    assert submit(thread, body="Aisha Rahman spoke once more.", email="c@example.org").outcome == "published"


def test_personal_data_and_spam_score_share_one_assessment(thread, rules, safety):
    """Both checks keep what they found on the reply's one assessment row."""
    spam.save_model(trained_model("cheap pills casino", "the council meeting on housing"))
    result = submit(
        thread,
        body="Call Tom Okafor about the council meeting.",
        email="d@example.org",
        confirm="personal_data",
    )
    assessment = ReplyAssessment.objects.get(reply=result.reply)
    assert assessment.personal_data == [{"field": "body", "kind": "name"}]
    assert assessment.spam_score is not None


def test_a_first_time_writer_answering_a_guest_without_address_meets_the_brakes(thread, rules):
    """A new commenter is checked before being stored (no id yet); the pile-on brakes must not
    take them for the author of a parent that has no commenter either."""
    rules.require_name_email = False
    rules.save()
    row = SafetySettings.load()
    row.pile_on_replies = 1
    row.save()
    guest = services.submit_reply(
        thread=thread,
        data=form_data(thread, name="Guest", email="", approved_repliers_only="on"),
        author=services.Author(client_hash="guest-client", guest_token="guest-token"),
    )
    assert guest.reply.commenter is None and guest.reply.status == Reply.Status.APPROVED
    answer = submit(thread, parent=guest.reply.pk, name="Newcomer", email="new@example.org", body="Hm.")
    assert answer.reply.status == Reply.Status.PENDING
    assert "approved commenters" in answer.reply.moderation_reason
