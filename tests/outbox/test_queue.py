"""Queueing mail: in the caller's transaction, idempotent with a dedupe key, and refusing
anything that could inject a header."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from speakout.outbox.models import OutgoingMail
from speakout.outbox.services import queue_mail


class Boom(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_rolled_back_transaction_leaves_no_mail_and_sends_nothing(mailoutbox):
    """A mail queued in a transaction that rolls back is neither stored nor sent."""
    with pytest.raises(Boom), transaction.atomic():
        queue_mail("ada@example.org", "Hello", "Text")
        raise Boom
    assert OutgoingMail.objects.count() == 0
    assert mailoutbox == []


@pytest.mark.django_db(transaction=True)
def test_committed_mail_is_sent_once(mailoutbox):
    """Nothing is sent before the commit; after it the mail goes out once and is marked sent."""
    with transaction.atomic():
        mail = queue_mail("ada@example.org", "Hello", "Text", "<p>Text</p>")
        assert mailoutbox == []
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["ada@example.org"]
    mail.refresh_from_db()
    assert mail.status == OutgoingMail.Status.SENT
    assert mail.attempts == 1
    assert mail.sent_at is not None


@pytest.mark.django_db
def test_dedupe_key_queues_once(django_capture_on_commit_callbacks, mailoutbox):
    """Queueing twice with the same dedupe key returns the first row and sends one mail."""
    with django_capture_on_commit_callbacks(execute=True):
        first = queue_mail("ada@example.org", "Hello", "Text", dedupe_key="welcome:1")
        second = queue_mail("ada@example.org", "Hello", "Text", dedupe_key="welcome:1")
    assert first.pk == second.pk
    assert OutgoingMail.objects.count() == 1
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_message_ids_are_unique_and_use_the_sender_domain():
    """Each row gets its own Message-ID, in the From address's domain."""
    one = queue_mail("ada@example.org", "One", "Text")
    two = queue_mail("ada@example.org", "Two", "Text")
    assert one.message_id != two.message_id
    assert one.message_id.startswith("<") and one.message_id.endswith("@example.org>")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "kwargs",
    [
        {"to": "ada@example.org\r\nBcc: victim@example.org"},
        {"to": "ada@example.org\nBcc: victim@example.org"},
        {"to": "ada@example.org\0"},
        {"subject": "Hi\r\nBcc: victim@example.org"},
        {"subject": "Hi\nthere"},
        {"subject": "Hi\0"},
        {"headers": {"Reply-To": "a@example.org\r\nBcc: victim@example.org"}},
        {"headers": {"List-Unsubscribe": "<https://example.org/u>\nBcc: victim@example.org"}},
        {"headers": {"List-Unsubscribe-Post": "List-Unsubscribe=One-Click\0"}},
        {"headers": {"Bcc": "victim@example.org"}},
        {"headers": {"From": "boss@example.org"}},
        {"headers": {"Message-ID": "<fixed@example.org>"}},
        {"to": "not an address"},
        {"to": "ada@example.org, eve@example.org"},
        {"headers": {"Reply-To": "not an address"}},
        {"language": "en\nX: y"},
    ],
)
def test_header_injection_is_refused(kwargs):
    """Line breaks and NULs in the address, subject or header values, headers outside the
    whitelist and bad addresses raise ValueError, and nothing is stored."""
    arguments = {"to": "ada@example.org", "subject": "Hello", "text": "Text", **kwargs}
    with pytest.raises(ValueError):
        queue_mail(**arguments)
    assert OutgoingMail.objects.count() == 0


@pytest.mark.django_db
def test_whitelisted_headers_are_stored_canonically():
    mail = queue_mail(
        "ada@example.org",
        "Hello",
        "Text",
        headers={"list-unsubscribe": "<https://example.org/u/abc>", "REPLY-TO": "team@example.org"},
        language="es",
    )
    assert mail.headers == {"List-Unsubscribe": "<https://example.org/u/abc>", "Reply-To": "team@example.org"}
    assert mail.language == "es"


DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.mark.django_db(transaction=True)
def test_with_the_database_task_queue_one_waiting_send_task_serves_many_mails(settings, mailoutbox, monkeypatch):
    """The default task queue is a table of the same database. A send task is enqueued after the
    commit, only when none waits to start: a burst of mails makes one task, a mail queued while
    the task runs makes a new one, and a rollback makes none. The task sends them all."""
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from speakout.net import tasks
    from speakout.outbox.tasks import send_outbox_task

    settings.TASKS = DATABASE_TASKS
    monkeypatch.setattr(tasks, "_WAITS_UNTIL", {})  # what this test's tasks leave is forgotten after it
    with transaction.atomic():
        for number in range(3):
            queue_mail(f"reader{number}@example.org", "Hello", "Text")
        assert not DBTaskResult.objects.exists()  # not before the commit
    [task] = DBTaskResult.objects.all()
    assert task.task_path == send_outbox_task.module_path and task.status == TaskResultStatus.READY
    with CaptureQueriesContext(connection) as captured:
        queue_mail("reader3@example.org", "Hello", "Text")
    assert DBTaskResult.objects.count() == 1  # the waiting task will find it
    # Known to wait until its start time: the queue is not asked again meanwhile.
    assert not [query for query in captured.captured_queries if DBTaskResult._meta.db_table in query["sql"]]
    with pytest.raises(Boom), transaction.atomic():
        queue_mail("bob@example.org", "Hello", "Text")
        raise Boom
    assert DBTaskResult.objects.count() == 1
    # Started (no worker starts it before its start time): it may have looked already.
    later = task.run_after + timedelta(seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    DBTaskResult.objects.update(status=TaskResultStatus.RUNNING)
    queue_mail("reader4@example.org", "Hello", "Text")
    assert DBTaskResult.objects.filter(status=TaskResultStatus.READY).count() == 1

    assert send_outbox_task.call()["sent"] == 5
    assert len(mailoutbox) == 5 and OutgoingMail.objects.filter(status=OutgoingMail.Status.SENT).count() == 5


@pytest.mark.django_db
def test_a_used_dedupe_key_inside_a_transaction_leaves_it_usable(django_capture_on_commit_callbacks):
    """The second mail with a key is written first and found taken; the caller's transaction
    goes on (the failed write was in a savepoint)."""
    with transaction.atomic():
        first = queue_mail("ada@example.org", "Hello", "Text", dedupe_key="welcome:2")
        second = queue_mail("ada@example.org", "Hello again", "Text", dedupe_key="welcome:2")
        third = queue_mail("ada@example.org", "Other", "Text", dedupe_key="welcome:3")
    assert first.pk == second.pk != third.pk
    assert OutgoingMail.objects.count() == 2


@pytest.mark.django_db
def test_a_batch_of_mails_is_written_in_one_statement_leaving_out_used_keys():
    """``queue_mails``: what ``queue_mail`` does for each mail, in one INSERT."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from speakout.outbox.services import queue_mails

    queue_mail("first@example.org", "Subject", "Text", dedupe_key="taken")
    with CaptureQueriesContext(connection) as statements:
        given = queue_mails(
            [
                {"to": "second@example.org", "subject": "Again", "text": "Text", "dedupe_key": "taken"},
                {"to": "third@example.org", "subject": "New", "text": "Text", "dedupe_key": "new", "language": "fr"},
                {"to": "fourth@example.org", "subject": "Plain", "text": "Text", "html": "<p>Text</p>"},
            ]
        )
    assert given == 3
    assert [query["sql"].split()[0] for query in statements.captured_queries] == ["INSERT"]
    assert OutgoingMail.objects.get(dedupe_key="taken").to == "first@example.org"
    assert OutgoingMail.objects.get(dedupe_key="new").language == "fr"
    assert OutgoingMail.objects.get(to="fourth@example.org").html_body == "<p>Text</p>"
    assert len(set(OutgoingMail.objects.values_list("message_id", flat=True))) == 3


@pytest.mark.django_db
def test_a_batch_with_one_bad_mail_writes_none():
    from speakout.outbox.services import queue_mails

    good = {"to": "good@example.org", "subject": "Subject", "text": "Text"}
    for bad in ({"to": "not an address"}, {"subject": "Two\nlines"}, {"headers": {"Bcc": "x@example.org"}}):
        with pytest.raises(ValueError):
            queue_mails([good, {**good, **bad}])
    assert not OutgoingMail.objects.exists()
