"""The lean write (services.insert_reply, services.count_new_reply) against the ORM path it
replaces: the rows both write must be the same, column by column."""

from __future__ import annotations

import pytest
from django.utils import timezone

from speakout.discussion import services
from speakout.discussion.models import Commenter, Reply, Thread, path_segment

pytestmark = pytest.mark.django_db


def every_column(model, pk: int, leave_out: tuple[str, ...] = ()) -> dict:
    """The row as the database holds it: every concrete column but the named ones."""
    names = [field.attname for field in model._meta.concrete_fields if field.attname not in leave_out]
    return model.objects.filter(pk=pk).values(*names).get()


def unsaved_reply(thread: Thread, parent: Reply | None, commenter: Commenter) -> Reply:
    # Every field set to something other than its default, where it has one.
    return Reply(
        thread=thread,
        parent=parent,
        depth=(parent.depth + 1) if parent else 0,
        commenter=commenter,
        author_name="Ana Lean",
        author_website="https://example.org/ana",
        body="Some *text* with ünïcode and a ' quote",
        body_html="<p>Some <em>text</em> with ünïcode and a ' quote</p>",
        status=Reply.Status.PENDING,
        moderation_reason="First reply from this commenter.",
        created_at=timezone.now().replace(microsecond=123456),
        received_at=timezone.now().replace(microsecond=654321),
        client_hash="c" * 64,
        guest_key="g" * 64,
        avatar_key="",  # filled in as save() does
        approved_repliers_only=True,
        language="pt-br",
    )


@pytest.mark.parametrize("answer", [False, True], ids=["top-level", "answer"])
def test_the_lean_insert_writes_the_row_the_orm_writes(answer):
    thread = services.get_or_create_thread("lean", url="http://testserver/lean/", title="Lean")
    commenter = Commenter.objects.create(email="ana@example.org", display_name="Ana")
    parent = Reply.objects.create(thread=thread, author_name="P", body="p", body_html="<p>p</p>") if answer else None
    if parent is not None:
        parent.path = path_segment(parent.pk)
        Reply.objects.filter(pk=parent.pk).update(path=parent.path)

    reference = unsaved_reply(thread, parent, commenter)
    reference.save()
    reference.path = (parent.path if parent else "") + path_segment(reference.pk)
    Reply.objects.filter(pk=reference.pk).update(path=reference.path)

    lean = unsaved_reply(thread, parent, commenter)
    lean.created_at, lean.received_at = reference.created_at, reference.received_at
    services.insert_reply(lean, parent.path if parent else "")

    assert lean.pk and lean.pk != reference.pk and not lean._state.adding
    assert lean.avatar_key == reference.avatar_key != ""
    assert lean.path == (parent.path if parent else "") + path_segment(lean.pk)
    assert every_column(Reply, lean.pk, ("id", "path")) == every_column(Reply, reference.pk, ("id", "path"))
    assert every_column(Reply, lean.pk, ("id",))["path"] == lean.path
    # The object in memory is the row, as after save().
    assert Reply.objects.get(pk=lean.pk).path == lean.path


def test_a_duplicate_submission_id_is_refused_by_the_database_as_through_the_orm():
    from django.db import IntegrityError, transaction

    thread = services.get_or_create_thread("lean-unique")
    commenter = Commenter.objects.create(email="ana@example.org", display_name="Ana")
    first = unsaved_reply(thread, None, commenter)
    first.submission_id = "same"
    services.insert_reply(first, "")
    second = unsaved_reply(thread, None, commenter)
    second.submission_id = "same"
    with pytest.raises(IntegrityError), transaction.atomic():
        services.insert_reply(second, "")


@pytest.mark.parametrize("commenter_counted", [False, True])
def test_the_lean_count_changes_what_the_orm_count_changes(commenter_counted):
    rows = {}
    for way in ("orm", "lean"):
        thread = services.get_or_create_thread(f"count-{way}")
        Thread.objects.filter(pk=thread.pk).update(approved_count=4, version=7)
        thread.refresh_from_db()
        commenter = Commenter.objects.create(email=f"{way}@example.org", display_name=way, approved_count=2)
        reply = Reply.objects.create(thread=thread, commenter=commenter, author_name=way, body="b", body_html="b")
        if way == "orm":
            services._count_approved(reply, +1, thread=thread, commenter_counted=commenter_counted)
        else:
            services.count_new_reply(reply, thread, commenter_counted=commenter_counted)
        rows[way] = (
            every_column(Thread, thread.pk, ("id", "key", "created_at", "opened_at")),
            every_column(Commenter, commenter.pk, ("id", "handle", "email", "display_name", "created_at")),
        )
    assert rows["lean"] == rows["orm"]
    assert rows["lean"][0]["approved_count"] == 5 and rows["lean"][0]["version"] == 8
    assert rows["lean"][1]["approved_count"] == (2 if commenter_counted else 3)


def test_the_lean_count_retires_the_threads_cached_pages_at_the_commit(django_capture_on_commit_callbacks):
    """The thread's page-cache version moves at the commit (the reply's service moved it once
    already, before its transaction: see test_write_path)."""
    from speakout.discussion.models import thread_dependency
    from speakout.pagecache import versions

    thread = services.get_or_create_thread("count-version")
    reply = Reply.objects.create(thread=thread, author_name="a", body="b", body_html="b")
    name = thread_dependency(thread.key)
    before = versions.current([name])[name]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.count_new_reply(reply, thread, commenter_counted=False)
        assert versions.current([name])[name] == before, "not inside the transaction"
    assert len(callbacks) == 1
    after = versions.current([name])[name]
    assert before < after


def test_the_lean_commenter_insert_writes_the_row_the_orm_writes_and_yields_a_taken_address():
    reference = Commenter(email="ana@example.org", display_name="Ana", website="https://a.example", approved_count=1)
    reference.save()
    lean = Commenter(email="bea@example.org", display_name="Ana", website="https://a.example", approved_count=1)
    assert services.insert_row(lean, unless_taken=True)
    assert lean.pk and lean.pk != reference.pk
    # created_at is set on insert (auto_now_add), by both.
    assert abs(Commenter.objects.get(pk=lean.pk).created_at - reference.created_at).total_seconds() < 60
    leave_out = ("id", "handle", "email", "created_at")
    assert every_column(Commenter, lean.pk, leave_out) == every_column(Commenter, reference.pk, leave_out)
    assert every_column(Commenter, lean.pk)["handle"] == lean.handle != reference.handle
    # An address another record holds: nothing is written, and the transaction goes on.
    taken = Commenter(email="ana@example.org", display_name="Other")
    assert services.insert_row(taken, unless_taken=True) is False
    assert taken.pk is None and Commenter.objects.filter(email="ana@example.org").count() == 1
    assert Commenter.objects.count() == 2


def test_a_first_reply_under_an_address_taken_meanwhile_keeps_its_record_apart(monkeypatch):
    """The race _store_commenter resolves: the address was free when looked at, taken when stored."""
    Commenter.objects.create(email="ana@example.org", display_name="Ana")
    author = services.Author(client_hash="h" * 64)
    found = Commenter(email="ana@example.org", display_name="Late")  # as _find_commenter saw it
    stored = services._store_commenter(author, found, approved_count=1)
    assert stored.pk and stored.email == "" and stored.approved_count == 1
    assert Commenter.objects.filter(email="ana@example.org").count() == 1


def public_thread_reference(key: str) -> Thread | None:
    """``public_thread``'s look-up through the ORM, the reference its plain statement must match."""
    return Thread.objects.filter(key=key, is_public=True).exclude(status=Thread.Status.HIDDEN).order_by("pk").first()


def test_the_public_thread_look_up_finds_what_the_orm_finds_column_by_column():
    from django.http import Http404

    from speakout.discussion.api import public_thread

    open_thread = services.get_or_create_thread("look-up/open", url="https://example.org/a", title="Ünï 'a'")
    Thread.objects.filter(pk=open_thread.pk).update(status=Thread.Status.CLOSED, approved_count=3)
    services.get_or_create_thread("look-up/hidden")
    Thread.objects.filter(key="look-up/hidden").update(status=Thread.Status.HIDDEN)
    services.get_or_create_thread("look-up/private", is_public=False)
    for key in ("look-up/open", "look-up/hidden", "look-up/private", "look-up/none", "LOOK-UP/OPEN"):
        reference = public_thread_reference(key)
        if reference is None:
            with pytest.raises(Http404):
                public_thread(key)
            continue
        found = public_thread(key)
        names = [field.attname for field in Thread._meta.concrete_fields]
        # Types too: a boolean read back as 1, or a naive time, would still compare equal or near.
        assert {name: (type(getattr(found, name)), getattr(found, name)) for name in names} == {
            name: (type(getattr(reference, name)), getattr(reference, name)) for name in names
        }
        assert found._state.adding is False and found._state.db == reference._state.db
    assert public_thread_reference("look-up/open") is not None  # the loop compared a row


def test_the_waiting_task_look_up_answers_as_the_orm_does():
    from datetime import timedelta

    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from speakout.net.tasks import waiting_statement_result

    def both(path: str, backend: str, status) -> tuple[object, object]:
        orm = (
            DBTaskResult.objects.filter(task_path=path, backend_name=backend, status=status)
            .order_by("-run_after")
            .values_list("run_after", flat=True)
            .first()
        )
        return orm, waiting_statement_result(DBTaskResult, path, backend, status)

    assert both("a.task", "default", TaskResultStatus.READY) == (None, None)
    arguments = {"args": [], "kwargs": {}}
    soon = timezone.now().replace(microsecond=123456) + timedelta(seconds=1)
    for run_after in (soon, soon - timedelta(seconds=5)):
        DBTaskResult.objects.create(
            task_path="a.task",
            backend_name="default",
            status=TaskResultStatus.READY,
            args_kwargs=arguments,
            run_after=run_after,
        )
    assert both("a.task", "default", TaskResultStatus.READY) == (soon, soon)
    assert both("a.task", "default", TaskResultStatus.RUNNING) == (None, None)
    assert both("a.task", "other", TaskResultStatus.READY) == (None, None)
    assert both("b.task", "default", TaskResultStatus.READY) == (None, None)


def test_the_address_look_up_finds_what_the_orm_finds():
    """``address_held`` against its ORM reference, ``holding``: any spelling of the case, and
    no pattern characters (an address may hold ``_`` or ``%``)."""
    from speakout.discussion.models import holding

    for email in ("Ana.Lean@Example.org", "under_score@example.org", "per%cent@example.org"):
        Commenter.objects.create(email=email, display_name="x")
    Commenter.objects.create(email="", display_name="no address")
    asked = [
        "ana.lean@example.org",
        "ANA.LEAN@EXAMPLE.ORG",
        "Ana.Lean@Example.org",
        "ana.lean@example.or",
        "underXscore@example.org",
        "UNDER_SCORE@example.org",
        "perXcent@example.org",
        "per%cent@EXAMPLE.org",
        "nobody@example.org",
        "",
    ]
    for email in asked:
        assert services.address_held(email) == Commenter.objects.filter(holding(email)).exists(), email
    assert [services.address_held(email) for email in asked] == [
        True, True, True, False, False, True, False, True, False, True,
    ]  # fmt: skip


def test_the_ban_look_up_finds_what_the_orm_finds():
    """``banned_client`` against the ORM look-up it replaces: the first ban by id among the
    client's hashes, whole (its reason is carried to the current key), or none."""
    from speakout.discussion.models import BannedClient
    from speakout.discussion.policy import banned_client

    older = BannedClient.objects.create(client_hash="b" * 64, reason="older")
    BannedClient.objects.create(client_hash="a" * 64, reason="newer")
    for hashes in (("a" * 64, "b" * 64), ("a" * 64,), ("c" * 64,), ("c" * 64, "b" * 64), ("B" * 64,)):
        found = banned_client(hashes)
        expected = BannedClient.objects.filter(client_hash__in=hashes).first()
        assert found == expected, hashes
        if found is not None:
            assert (found.client_hash, found.reason, found.created_at) == (
                expected.client_hash,
                expected.reason,
                expected.created_at,
            )
    assert banned_client(("a" * 64, "b" * 64)) == older
