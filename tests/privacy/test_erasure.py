"""After "forget me" (or "delete my account"), no row of any table holds the person's address, in
any spelling of its case, except the rows docs/privacy.md says are kept on purpose.

The search walks every model of every installed app and every text field of it (char, email,
text, JSON, and the session's encoded data), so a table added later that stores an address is
caught without this test knowing it. The person's data is made through the services and pages
a person would use: replies as a guest and signed in, subscriptions, a contact message, queued
and sent mail, a soft bounce and a hard bounce read from the mail server's own reports, a manage
link request, a commenter record, someone else's answer to their reply, and background tasks run
by django-tasks' database worker whose records quote the address (a failure's traceback, a task's
arguments and result); for an account, its addresses and a login linked from a provider with its
access token.
"""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from django_tasks import TaskResultStatus

from speakout.contact.models import ContactPage
from speakout.contact.services import form_key
from speakout.discussion.forms import issue_form_token
from speakout.discussion.models import Commenter
from speakout.discussion.services import Author
from speakout.outbox import bounces
from speakout.outbox.models import OutgoingMail, SoftBounce, Suppression
from speakout.outbox.services import queue_mail, send_due_mail
from speakout.privacy.app_settings import app_settings
from speakout.privacy.purge import purge_expired
from speakout.privacy.services import Owner, forget
from speakout.subscriptions import services as subscriptions
from tests.outbox.returned import postfix_dsn
from tests.privacy.helpers import Kept, mails_to, rows_holding, verify
from tests.privacy.tasks import DATABASE_TASKS, look_up_address, refused_by_the_mail_server, run_the_worker
from tests.queryplans import plan

pytestmark = pytest.mark.django_db

PERSON = "robin.gone@example.org"
OTHER = "someone.else@example.org"
STAFF = "desk@org.example"


# Where the address may stay, and why (docs/privacy.md, "What is stored" and "Forget me") ------


SUPPRESSION = Kept(
    "speakout_outbox.Suppression",
    frozenset({"address", "detail"}),
    "deleting it would start mailing an address that bounced for good or complained",
)
CONTACT_MESSAGE = Kept(
    "speakout_contact.ContactMessage",
    frozenset({"email", "message"}),
    "private correspondence with staff, kept until staff delete it",
)
CONTACT_MAIL_TO_STAFF = Kept(
    "speakout_outbox.OutgoingMail",
    frozenset({"text_body", "html_body", "headers"}),
    "the contact message's mail to staff (Reply-To: its sender), deleted with the sent mail",
    lambda row: row["to"] == STAFF,
)
EVIDENCE = Kept(
    "speakout_safety.EvidenceHold",
    frozenset({"content"}),
    "a reply held as evidence, sealed with its author's details, until released",
)
FORGOTTEN_COMMENTER = Kept(
    "speakout_discussion.Commenter",
    frozenset({"email"}),
    "linked to nothing, deleted by the purge SPEAKOUT_FORGET_AFTER_DAYS after the request",
    lambda row: row["forget_requested_at"] is not None,
)
FOR_GOOD = (SUPPRESSION, CONTACT_MESSAGE, CONTACT_MAIL_TO_STAFF, EVIDENCE)
UNTIL_THE_PURGE = (*FOR_GOOD, FORGOTTEN_COMMENTER)


def labels(found) -> set[str]:
    return {label for label, _, _ in found}


# What the person leaves behind ----------------------------------------------------------------


@pytest.fixture(autouse=True)
def _bounces_and_rules(settings):
    settings.SPEAKOUT_BOUNCE_ADDRESS = "bounces@example.org"
    settings.SPEAKOUT_DISCUSSION_SECONDS_BETWEEN_REPLIES = 0
    settings.SPEAKOUT_DISCUSSION_BURST_LIMIT = (0, 600)


@pytest.fixture
def contact_page(site_builder):
    page = site_builder.home.add_child(
        instance=ContactPage(
            title="Contact us",
            slug="contact",
            intro="<p>Write to us.</p>",
            topics="Press",
            recipients=STAFF,
            thank_you="<p>Thanks.</p>",
        )
    )
    page.save_revision().publish()
    return page


def write_to_staff(client, page, email):
    data = {
        "name": "Robin",
        "email": email,
        "topic": "Press",
        "message": "Please call me back.",
        "form_token": issue_form_token(form_key(page), time.time() - 10),
        "homepage": "",
    }
    response = client.post(page.url, data)
    assert response.status_code in (200, 302, 303), response.content[:500]


def mail_bounce(address, *, status, diagnostic):
    """Send a mail to ``address`` and read the mail server's report of its failure (a Postfix
    DSN quoting the address, as Postfix does)."""
    from django.core import mail as django_mail

    before = len(django_mail.outbox)
    with transaction.atomic():
        queue_mail(address, "A new reply", "Plain words", "<p>HTML words</p>")
    send_due_mail()
    message = django_mail.outbox[before]
    original = message.message().as_bytes(linesep="\r\n")
    report = postfix_dsn(message.from_email, original, recipient=address, status=status, diagnostic=diagnostic)
    return bounces.process(report)


def soft_bounce(address):
    outcome = mail_bounce(address, status="4.2.2", diagnostic="smtp; 452 4.2.2 <{rcpt}>: Mailbox full")
    assert outcome.kind == bounces.Kind.SOFT


def hard_bounce(address):
    outcome = mail_bounce(address, status="5.1.1", diagnostic="smtp; 550 5.1.1 <{rcpt}>: User unknown")
    assert outcome.suppressed


def leave_traces(thread, other_thread, post_reply, client, contact_page, *, email, user=None):
    """Everything a reader does with ``email`` (spelt as they like), and someone else's answer."""
    guest = Author(client_hash=uuid.uuid4().hex, guest_token=uuid.uuid4().hex)
    mine = post_reply(
        thread, author=guest, email=email, name="Robin", notify_replies="on", notify_posts="on", notify_answers="on"
    )
    assert mine.ok, mine.errors
    if user is not None:
        signed = post_reply(other_thread, author=Author(user=user, client_hash=uuid.uuid4().hex), body="Signed in.")
        assert signed.ok, signed.errors
    for subscription in subscriptions.subscriptions_of([email.lower()]):
        subscriptions.confirm(subscription)
    write_to_staff(client, contact_page, email.upper())
    send_due_mail()  # the confirmation requests and the contact message leave
    answer = post_reply(thread, email=OTHER, name="Sam", parent=mine.reply.pk, body="An answer.")
    assert answer.ok, answer.errors
    subscriptions.send_due_reply_notifications()
    subscriptions.send_due_answers(timezone.now() + timedelta(days=1))
    soft_bounce(email)
    return mine.reply


def link_a_login(user, address):
    """A login linked from a provider, as allauth stores it: what the provider said of the person
    (their address among it) and an access token (named after the address, so the walk sees it)."""
    from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken

    app = SocialApp.objects.create(provider="github", name="GitHub", client_id="app-id", secret="app-secret")
    linked = SocialAccount.objects.create(
        user=user, provider="github", uid="4242", extra_data={"login": "robinhub", "email": address.upper()}
    )
    SocialToken.objects.create(app=app, account=linked, token=f"token-for-{address}")


def fail_tasks_quoting(address, monkeypatch):
    """Through the database queue and its worker: a task refused by the mail server, whose
    traceback quotes the address, and a task called with the address in another case, which
    returns it. Their finished records stay for SPEAKOUT_TASK_RESULT_DAYS."""
    from django_tasks_db.models import DBTaskResult

    commenter = Commenter.objects.filter(email__iexact=address).order_by("pk").first()
    with override_settings(TASKS=DATABASE_TASKS):
        refused = refused_by_the_mail_server.enqueue(commenter.pk)
        looked_up = look_up_address.enqueue(email=address.title())
        run_the_worker(monkeypatch, worker_id="erasure-test")
    failed = DBTaskResult.objects.get(pk=refused.id)
    assert failed.status == TaskResultStatus.FAILED
    assert address.upper() in failed.traceback and address not in failed.args_kwargs["args"]
    done = DBTaskResult.objects.get(pk=looked_up.id)
    assert done.status == TaskResultStatus.SUCCESSFUL and done.return_value == {"looked_up": address.lower()}


def assert_seeded(address):
    """The walk finds the person's rows before the erasure: the test is not looking at nothing."""
    before = labels(rows_holding(address))
    for label in (
        "speakout_discussion.Commenter",
        "speakout_subscriptions.Subscription",
        "speakout_contact.ContactMessage",
        "speakout_outbox.OutgoingMail",
        "speakout_outbox.SoftBounce",
        "django_tasks_database.DBTaskResult",
    ):
        assert label in before, (label, sorted(before))
    assert OutgoingMail.objects.filter(to__iexact=address, status=OutgoingMail.Status.SENT).exists()
    return before


def assert_forgotten(address):
    assert rows_holding(address, UNTIL_THE_PURGE) == []
    assert Commenter.objects.filter(email__iexact=address).exclude(forget_requested_at=None).exists()
    later = timezone.now() + timedelta(days=app_settings.FORGET_AFTER_DAYS, hours=1)
    purge_expired(later)
    assert rows_holding(address, FOR_GOOD) == []


# The tests ------------------------------------------------------------------------------------


def test_forget_me_leaves_the_address_only_where_the_privacy_notes_say(
    thread, other_thread, post_reply, client, contact_page, manage_link, monkeypatch
):
    leave_traces(thread, other_thread, post_reply, client, contact_page, email="Robin.Gone@Example.ORG")
    fail_tasks_quoting(PERSON, monkeypatch)
    other = post_reply(thread, email=OTHER, name="Sam", body="Unrelated.")
    assert other.ok
    path = manage_link(PERSON)
    assert mails_to(PERSON), "the link's mail waits in the outbox"
    before = assert_seeded(PERSON)
    assert "speakout_privacy.ManageRequest" in before

    response = client.post(f"{path}forget/", {"confirm": "on"})
    assert response.status_code == 200

    assert_forgotten(PERSON)
    assert rows_holding(OTHER), "someone else's rows are theirs"


def test_deleting_an_account_leaves_its_address_only_where_the_privacy_notes_say(
    thread, other_thread, post_reply, client, contact_page, django_user_model, monkeypatch
):
    member = django_user_model.objects.create_user("robin", PERSON, "a long password")
    verify(member, PERSON)
    link_a_login(member, PERSON)
    leave_traces(thread, other_thread, post_reply, client, contact_page, email=PERSON.upper(), user=member)
    hard_bounce(PERSON)
    fail_tasks_quoting(PERSON, monkeypatch)
    before = assert_seeded(PERSON)
    assert {
        "auth.User",
        "account.EmailAddress",
        "socialaccount.SocialAccount",
        "socialaccount.SocialToken",
        "speakout_outbox.Suppression",
    } <= before
    client.force_login(member)
    assert client.get("/privacy/my-data/").status_code == 200

    response = client.post("/privacy/my-data/delete-account/", {"replies": "anonymise", "confirm": "on"})
    assert response.status_code == 200

    assert_forgotten(PERSON)
    assert Suppression.objects.filter(address=PERSON).exists(), "a bounced address stays suppressed"


def test_the_walk_finds_a_soft_bounce_in_any_case(db):
    """The search itself: a soft bounce's address, whatever its case, is found."""
    SoftBounce.objects.create(address="ROBIN.GONE@example.org", mail_id=1)
    assert rows_holding(PERSON) == [("speakout_outbox.SoftBounce", SoftBounce.objects.get().pk, "address")]


def test_forget_me_deletes_finished_tasks_quoting_the_address_and_leaves_waiting_ones(settings):
    """A finished task's record whose arguments, result or traceback quote the address, in any
    case, is deleted. A task still waiting or running keeps its record (without its arguments it
    would fail, and its work may be someone else's too); other people's records stay."""
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = DATABASE_TASKS

    def record(status, email="nobody@example.org", **fields):
        result = look_up_address.enqueue(email=email)
        DBTaskResult.objects.filter(pk=result.id).update(status=status, **fields)
        return str(result.id)

    done = TaskResultStatus.SUCCESSFUL
    record(done, email=PERSON.upper())
    record(done, return_value={"looked_up": "Robin.Gone@example.org"})
    record(TaskResultStatus.FAILED, traceback="SMTPRecipientsRefused: 550 <ROBIN.GONE@EXAMPLE.ORG>: no mailbox")
    waiting = record(TaskResultStatus.READY, email=PERSON)
    running = record(TaskResultStatus.RUNNING, email=PERSON)
    someone_elses = record(TaskResultStatus.FAILED, email=OTHER, traceback=f"550 <{OTHER}>: no mailbox")
    unrelated = record(done, return_value={"looked_up": "nobody@example.org"})
    # Addresses that hold this one inside them are other people's.
    longer = record(done, email=f"x{PERSON}")
    subdomain = record(TaskResultStatus.FAILED, traceback=f"550 <{PERSON}.mail.example>: no mailbox")
    record(done, return_value={"to": f"Robin <{PERSON}>"})  # quoted inside a longer value: theirs

    forget(Owner.for_email(PERSON))

    remaining = {str(pk) for pk in DBTaskResult.objects.values_list("pk", flat=True)}
    assert remaining == {waiting, running, someone_elses, unrelated, longer, subdomain}


def test_forget_me_deletes_soft_bounces_through_the_address_index(db):
    """The soft bounces of the address are found through the table's index on it, not by
    reading every bounce."""
    SoftBounce.objects.create(address=PERSON, mail_id=1)
    SoftBounce.objects.create(address=OTHER, mail_id=2)
    bounces_of = Owner.for_email(PERSON.upper()).soft_bounces()
    assert [bounce.address for bounce in bounces_of] == [PERSON]
    assert "speakout_outbox_softbounce_address" in plan(bounces_of)


def test_an_export_made_after_forget_me_holds_the_address_nowhere(thread, post_reply):
    """The commenter row waits for the purge (``SPEAKOUT_FORGET_AFTER_DAYS``) so moderators can
    finish with abuse, but a file made meanwhile outlives the purge: the JSON export (which holds
    every commenter) does not write it."""
    import io

    from speakout.interchange.json_export import export_json

    mine = post_reply(thread, email=PERSON, name="Robin", body="Mine.")
    other = post_reply(thread, email=OTHER, name="Sam", body="Unrelated.")
    assert mine.ok and other.ok
    forget(Owner.for_email(PERSON))
    assert Commenter.objects.filter(email=PERSON).exclude(forget_requested_at=None).exists()
    out = io.StringIO()
    export_json(out)
    assert PERSON not in out.getvalue().lower()
    assert OTHER in out.getvalue()


# A report's copy of the reported text --------------------------------------------------------


@pytest.mark.parametrize("delete_replies", [True, False])
def test_forget_me_treats_the_reported_text_of_a_reply_as_its_text(thread, post_reply, delete_replies):
    """A report keeps the reply's text as reported (the author may edit it since). "Forget me"
    deletes the replies' reports with them; anonymising keeps the text as it is now and the
    reports, but not their copy: it may hold words the writer edited away (a signature)."""
    from speakout.discussion.models import Flag, Reply
    from speakout.discussion.services import edit_reply, flag_reply

    guest = Author(client_hash=uuid.uuid4().hex, guest_token=uuid.uuid4().hex)
    mine = post_reply(thread, author=guest, email=PERSON, name="Robin", body="What I wrote first.")
    assert mine.ok, mine.errors
    flag_reply(mine.reply, "harassment", client_hash="reader-hash")
    assert edit_reply(mine.reply, "What I wrote then.", guest).ok
    assert Flag.objects.filter(reported_body="What I wrote first.").exists()

    forget(Owner.for_email(PERSON), delete_replies=delete_replies)

    if delete_replies:
        assert not Reply.objects.filter(pk=mine.reply.pk).exists()
        assert not Flag.objects.filter(reported_body__contains="What I wrote").exists()
    else:
        assert Reply.objects.get(pk=mine.reply.pk).body == "What I wrote then."
        assert Flag.objects.get(reply=mine.reply).reported_body == ""
