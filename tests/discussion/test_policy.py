"""Every check of the reply pipeline, one by one, and the way their verdicts combine."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from speakout.discussion import policy
from speakout.discussion.models import BannedClient, Commenter, DiscussionSettings, Reply, Thread
from speakout.discussion.policy import Decision, Submission, evaluate
from speakout.discussion.services import HELD, PUBLISHED, REJECTED, Author, ban_commenter, set_status
from tests.queryplans import explain

pytestmark = pytest.mark.django_db


def submission(thread, rules, **fields):
    values = {
        "thread": thread,
        "body": "Plain words.",
        "name": "Robin",
        "email": "robin@example.org",
        "website": "",
        "client_hash": "c1",
        "rules": rules,
        "now": timezone.now(),
        "form_age": 10.0,
    }
    values.update(fields)
    return Submission(**values)


# Closed thread --------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [Thread.Status.CLOSED, Thread.Status.HIDDEN])
def test_closed_or_hidden_thread_rejects(thread, rules, status):
    thread.status = status
    verdict = policy.ClosedThreadCheck().check(submission(thread, rules))
    assert verdict.decision == Decision.REJECT and "closed" in verdict.message


def test_non_public_thread_rejects(thread, rules):
    thread.is_public = False
    assert policy.ClosedThreadCheck().check(submission(thread, rules)).decision == Decision.REJECT


def test_thread_auto_closes_after_the_set_number_of_days(thread, rules):
    rules.auto_close_days = 7
    thread.opened_at = timezone.now() - timedelta(days=8)
    assert policy.ClosedThreadCheck().check(submission(thread, rules)).decision == Decision.REJECT
    thread.opened_at = timezone.now() - timedelta(days=6)
    assert policy.ClosedThreadCheck().check(submission(thread, rules)) is None


def test_open_thread_passes(thread, rules):
    assert policy.ClosedThreadCheck().check(submission(thread, rules)) is None


def test_reply_to_a_held_or_foreign_parent_is_refused(thread, rules, post_reply):
    parent = post_reply(thread).reply
    set_status(parent, Reply.Status.PENDING)
    parent.refresh_from_db()
    assert policy.ClosedThreadCheck().check(submission(thread, rules, parent=parent)).decision == Decision.REJECT


# Time trap and honeypot -----------------------------------------------------------------------


@pytest.mark.parametrize("age", [None, 2 * 24 * 3600.0])
def test_time_trap_refuses_missing_or_stale_forms(thread, rules, age):
    verdict = policy.TimeTrapCheck().check(submission(thread, rules, form_age=age))
    assert verdict.decision == Decision.REJECT and verdict.code == "form_expired"


def test_time_trap_holds_a_quick_form_for_a_moderator_and_says_how_long_it_counts(thread, rules):
    """One signal among the others, not a wall: the reply is kept, a moderator decides."""
    verdict = policy.TimeTrapCheck().check(submission(thread, rules, form_age=0.5))
    assert verdict.decision == Decision.HOLD and verdict.code == "too_fast"
    assert "3 seconds" in verdict.message


def test_time_trap_does_not_apply_where_the_age_cannot_be_known_or_after_an_error(thread):
    from speakout.discussion.forms import issue_form_token, read_form_token
    from speakout.pagecache.holes import marker

    # A cached page's form sent without its script: the token is still the page's fill marker.
    page_marker = marker(("call", "speakout.discussion.forms.issue_form_token", (thread.key,)))
    assert read_form_token(page_marker, thread.key) >= 3
    # A form shown again with an error may be sent at once; it still expires.
    assert read_form_token(issue_form_token(thread.key, after_error=True), thread.key) >= 3
    stale = issue_form_token(thread.key, issued_at=1000.0, after_error=True)
    assert read_form_token(stale, thread.key) > 24 * 3600
    assert read_form_token(issue_form_token(thread.key), thread.key) < 3


def test_time_trap_accepts_a_human_pace(thread, rules):
    assert policy.TimeTrapCheck().check(submission(thread, rules, form_age=30.0)) is None


def test_time_trap_can_be_skipped_for_trusted_callers(thread, rules):
    assert policy.TimeTrapCheck().check(submission(thread, rules, form_age=None, check_form_token=False)) is None


def test_form_token_is_bound_to_its_thread_and_signed(thread):
    from speakout.discussion.forms import issue_form_token, read_form_token

    token = issue_form_token(thread.key, issued_at=1000.0)
    assert read_form_token(token, thread.key) > 1000
    assert read_form_token(token, "another-thread") is None
    assert read_form_token(token[:-2] + "xx", thread.key) is None


def test_honeypot_marks_spam(thread, rules):
    verdict = policy.HoneypotCheck().check(submission(thread, rules, honeypot="http://spam.example"))
    assert verdict.decision == Decision.SPAM
    assert policy.HoneypotCheck().check(submission(thread, rules)) is None


# Rate limit -----------------------------------------------------------------------------------


def test_rate_limit_between_replies_per_client_and_per_guest_token(thread, post_reply):
    """By what proves the writer, never by a typed address (tests/security/test_identity_claims.py)."""
    author = Author(client_hash="same-client", guest_token="g")
    assert post_reply(thread, author=author).outcome == PUBLISHED
    again = post_reply(thread, author=author, body="Another thought.", email="other@example.org")
    assert again.outcome == REJECTED and again.code == "rate_limit"
    by_token = post_reply(thread, author=Author(client_hash="elsewhere", guest_token="g"), body="From elsewhere.")
    assert by_token.outcome == REJECTED and by_token.code == "rate_limit"
    assert "wait 15 seconds" in by_token.errors["__all__"][0]


def test_burst_limit(thread, post_reply, settings):
    settings.SPEAKOUT_DISCUSSION_SECONDS_BETWEEN_REPLIES = 0
    settings.SPEAKOUT_DISCUSSION_BURST_LIMIT = (3, 600)
    author = Author(client_hash="bursty", guest_token="g")
    outcomes = [
        post_reply(thread, author=author, body=f"Reply {n}", email=f"p{n}@example.org").outcome for n in range(4)
    ]
    assert outcomes == [PUBLISHED, PUBLISHED, PUBLISHED, REJECTED]


# Duplicates -----------------------------------------------------------------------------------


def test_same_person_same_text_same_thread_is_refused(thread, post_reply, settings):
    settings.SPEAKOUT_DISCUSSION_SECONDS_BETWEEN_REPLIES = 0
    person = Author(client_hash="one-browser", guest_token="one-token")
    assert post_reply(thread, author=person, body="Exactly this.").outcome == PUBLISHED
    same_browser_elsewhere = Author(client_hash="another-network", guest_token="one-token")
    duplicate = post_reply(thread, author=same_browser_elsewhere, body="Exactly this.")
    assert duplicate.outcome == REJECTED and duplicate.code == "duplicate"
    assert "already posted" in duplicate.errors["body"][0]


def test_duplicates_are_the_whole_text_not_its_indexed_beginning(thread, post_reply, settings):
    """The duplicate check finds texts through an index on their first characters: a text that
    begins the same way but differs later is not a duplicate; the same long text is; a reply in
    the bin does not count; a signed-in writer is known by the account."""
    settings.SPEAKOUT_DISCUSSION_SECONDS_BETWEEN_REPLIES = 0
    person = Author(client_hash="long-browser", guest_token="long-token")
    long_text = "A long beginning that is shared. " * 10 + "Then one ending."
    first = post_reply(thread, author=person, body=long_text)
    assert first.outcome == PUBLISHED
    assert post_reply(thread, author=person, body=long_text.replace("one ending", "another ending")).ok
    assert post_reply(thread, author=person, body=long_text).code == "duplicate"
    set_status(first.reply, Reply.Status.TRASH)
    assert post_reply(thread, author=person, body=long_text).ok, "a binned reply is no duplicate"
    user = get_user_model().objects.create_user("dup-writer", password="x" * 20)
    signed_in = Author(user=user, client_hash="first-network")
    assert post_reply(thread, author=signed_in, body="Said once, ünïcode.").ok
    repeat = post_reply(thread, author=Author(user=user, client_hash="other-network"), body="Said once, ünïcode.")
    assert repeat.code == "duplicate"
    other_thread = Thread.objects.create(key="other-dup-thread")
    assert post_reply(other_thread, author=signed_in, body="Said once, ünïcode.").ok


def test_the_duplicate_check_reads_through_its_index(thread, post_reply):
    """Not every reply of the thread: the plan uses the index on the text's beginning."""
    from django.db import connection

    from speakout.discussion.models import SAME_TEXT_PREFIX

    statements = []

    def keep(execute, sql, params, many, context):
        if "SUBSTR" in sql and sql.startswith("SELECT"):  # not the reply's INSERT (its path)
            statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(keep):
        post_reply(thread, author=Author(client_hash="plan-browser", guest_token="plan-token"), body="Look me up.")
    (sql, params) = statements[-1]
    plan = explain(sql, params)
    # Both columns of the index on the text, not only the thread's; or the index of the guest's
    # key, which holds their few replies (PostgreSQL's choice on a small table).
    assert "speakout_reply_same_text" in plan or "speakout_reply_guest_key" in plan, plan
    if "speakout_reply_same_text" in plan:
        if connection.vendor == "sqlite":
            assert "<expr>=?" in plan, plan
        else:
            assert "substring" in plan.split("Index Cond", 1)[1].lower(), plan
    assert f", 1, {SAME_TEXT_PREFIX})" in sql


def test_retried_submission_returns_the_first_reply(thread, post_reply):
    browser = Author(client_hash="one-browser")  # a first-time guest: no guest token yet
    first = post_reply(thread, author=browser, submission_id="retry-1")
    second = post_reply(thread, author=browser, submission_id="retry-1")
    assert second.ok and second.reply.pk == first.reply.pk and second.duplicate_of_retry
    assert Reply.objects.count() == 1


def test_a_submission_id_does_not_reveal_someone_elses_reply(thread, post_reply):
    post_reply(thread, author=Author(client_hash="victim", guest_token="v"), submission_id="leaked")
    other = post_reply(thread, author=Author(client_hash="attacker", guest_token="a"), submission_id="leaked")
    assert other.outcome == REJECTED and other.reply is None and other.code == "already_sent"


# Banned, words, links, trust ------------------------------------------------------------------


def test_banned_commenter_and_banned_client_go_to_spam(thread, rules, post_reply):
    commenter = post_reply(thread, author=Author(client_hash="bad-client")).reply.commenter
    ban_commenter(commenter, reason="threats")
    check = policy.BannedCheck()
    assert check.check(submission(thread, rules, commenter=commenter)).decision == Decision.SPAM
    assert BannedClient.objects.filter(client_hash="bad-client").exists()
    assert check.check(submission(thread, rules, client_hash="bad-client")).decision == Decision.SPAM
    assert check.check(submission(thread, rules, client_hash="good-client")) is None


def test_block_words_send_to_spam_and_hold_words_hold(thread, rules):
    rules.block_words = "cheap pills\n"
    rules.hold_words = "landlord\nPhone"
    assert policy.BlockWordsCheck().check(submission(thread, rules, body="Buy CHEAP pills")).decision == Decision.SPAM
    held = policy.HoldWordsCheck().check(submission(thread, rules, body="call my phone"))
    assert held.decision == Decision.HOLD and "phone" in held.message
    assert policy.HoldWordsCheck().check(submission(thread, rules, name="The Landlord")).decision == Decision.HOLD
    assert policy.HoldWordsCheck().check(submission(thread, rules, body="fine")) is None


def test_link_count_holds_at_the_threshold(thread, rules):
    rules.hold_link_count = 2
    check = policy.LinkCountCheck()
    assert check.check(submission(thread, rules, body="one https://a.example")) is None
    verdict = check.check(submission(thread, rules, body="https://a.example and https://b.example"))
    assert verdict.decision == Decision.HOLD and "2 links" in verdict.message
    rules.hold_link_count = 0
    assert check.check(submission(thread, rules, body="https://a.example https://b.example https://c.example")) is None


def test_first_reply_is_held_until_one_is_approved(thread, post_reply):
    rules = DiscussionSettings.load()
    rules.hold_first_reply = True
    rules.save()
    browser = Author(client_hash="one-browser", guest_token="one-token")
    first = post_reply(thread, author=browser)
    assert first.outcome == HELD and "First reply" in first.reply.moderation_reason
    set_status(first.reply, Reply.Status.APPROVED)
    cache_clear()
    second = post_reply(thread, author=browser, body="Trusted now.")
    assert second.outcome == PUBLISHED
    assert Commenter.objects.get(email="robin@example.org").approved_count == 2


def test_staff_skip_the_first_reply_hold(thread, rules):
    rules.hold_first_reply = True
    staff = get_user_model().objects.create_user("editor", is_staff=True)
    assert policy.TrustCheck().check(submission(thread, rules, user=staff)) is None


def cache_clear():
    from django.core.cache import cache

    cache.clear()


# Combining verdicts and plugging checks in ----------------------------------------------------


def test_spam_wins_over_hold_and_reasons_are_kept(thread, rules):
    rules.hold_words = "rent"
    result = evaluate(
        submission(thread, rules, body="rent https://a.example https://b.example", honeypot="x"),
        [policy.HoneypotCheck(), policy.HoldWordsCheck(), policy.LinkCountCheck()],
    )
    assert result.decision == Decision.SPAM
    assert "robots" in result.reasons and "rent" in result.reasons and "links" in result.reasons


def test_a_rejection_stops_the_pipeline(thread, rules):
    thread.status = Thread.Status.CLOSED
    result = evaluate(submission(thread, rules, honeypot="x"), [policy.ClosedThreadCheck(), policy.HoneypotCheck()])
    assert result.decision == Decision.REJECT and len(result.verdicts) == 1


class HoldEverythingCheck(policy.Check):
    code = "everything"

    def check(self, submission):
        return policy.Verdict(Decision.HOLD, self.code, "Held by a custom check.")


def test_new_checks_plug_in_by_setting(thread, post_reply, settings):
    settings.SPEAKOUT_DISCUSSION_POLICY_CHECKS = ["tests.discussion.test_policy.HoldEverythingCheck"]
    result = post_reply(thread)
    assert result.outcome == HELD and result.reply.moderation_reason == "Held by a custom check."


def test_a_misconfigured_check_fails_the_system_checks(settings):
    from speakout.discussion.checks import check_policy_checks

    settings.SPEAKOUT_DISCUSSION_POLICY_CHECKS = [
        "speakout.discussion.policy.NoSuchCheck",
        "speakout.discussion.models.Reply",
    ]
    assert [error.id for error in check_policy_checks()] == ["speakout_discussion.E001", "speakout_discussion.E002"]
    settings.SPEAKOUT_DISCUSSION_POLICY_CHECKS = ["speakout.discussion.policy.HoneypotCheck"]
    assert check_policy_checks() == []
