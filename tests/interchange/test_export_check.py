"""The Export screen's check of the WXR export: made by the worker on request, never on a page
view (building the export takes seconds on a large site), and not kept longer than needed (its
report names addresses)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from speakout.interchange import export_views, wxr_export
from speakout.interchange.models import ExportCheck

pytestmark = pytest.mark.django_db

DUMMY_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def test_viewing_the_screen_builds_no_export(every_case, admin_client, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the export was built for a page view")

    # Patched on modules already imported, and in the screen's table of exporters: a module first
    # imported while the patch is on would keep `refuse` for every later test in the process.
    monkeypatch.setattr(wxr_export, "export_wxr", refuse)
    monkeypatch.setattr(export_views, "export_wxr", refuse)
    monkeypatch.setitem(export_views.EXPORTERS, "wxr", (refuse, "xml"))
    page = admin_client.get("/admin/export/")
    assert page.status_code == 200
    assert "Not checked yet" in page.content.decode()
    assert not ExportCheck.objects.exists()


def test_a_check_runs_in_the_worker_and_the_screen_shows_it(every_case, admin_client, settings):
    settings.TASKS = DUMMY_TASKS
    from django_tasks import default_task_backend

    admin_client.post("/admin/export/")
    admin_client.post("/admin/export/")  # pressed twice: one check, not two
    assert ExportCheck.objects.count() == 1
    check = ExportCheck.objects.get()
    assert check.status == ExportCheck.Status.QUEUED and check.started_by.is_superuser
    assert len(default_task_backend.results) == 1
    waiting = admin_client.get("/admin/export/").content.decode()
    assert 'id="export-check-running"' in waiting and 'http-equiv="refresh"' in waiting
    assert "Check the export" not in waiting

    from speakout.interchange.tasks import check_export_task

    assert check_export_task.call(check.pk) == "done"
    assert check_export_task.call(check.pk) == "gone"  # a check runs once
    done = admin_client.get("/admin/export/").content.decode()
    assert "Replies: 8" in done and "root@localhost" in done
    assert 'http-equiv="refresh"' not in done and "Check the export again" in done


def test_a_lost_check_does_not_block_a_new_one(every_case, admin_client, settings):
    """A worker stopped in the middle leaves a check running for ever: after an hour it is
    taken as lost."""
    settings.TASKS = DUMMY_TASKS
    lost = ExportCheck.objects.create(status=ExportCheck.Status.RUNNING)
    ExportCheck.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(hours=2))
    admin_client.post("/admin/export/")
    assert list(ExportCheck.objects.values_list("status", flat=True)) == [ExportCheck.Status.QUEUED]


def test_a_report_is_kept_a_day_at_most_and_deleted_by_the_worker_not_by_a_page_view(every_case, admin_client):
    """A GET changes nothing (an image on another site can send one); the hourly job deletes."""
    from speakout.interchange import jobs
    from speakout.worker import scheduled_jobs

    admin_client.post("/admin/export/")
    assert "root@localhost" in admin_client.get("/admin/export/").content.decode()
    ExportCheck.objects.update(created_at=timezone.now() - timedelta(days=1, minutes=1))
    page = admin_client.get("/admin/export/").content.decode()
    assert "root@localhost" not in page and "Not checked yet" in page
    assert ExportCheck.objects.exists(), "a page view deletes nothing"
    fresh = ExportCheck.objects.create(status=ExportCheck.Status.DONE)
    jobs.forget_export_checks()
    assert list(ExportCheck.objects.all()) == [fresh], "the expired one goes, a fresh one stays"
    assert "speakout.interchange.jobs.forget_export_checks" in {path for _name, _every, path in scheduled_jobs()}


def test_anonymising_a_writer_drops_the_reports_that_may_name_them(every_case, admin_client):
    from speakout.privacy import services as privacy

    admin_client.post("/admin/export/")
    assert ExportCheck.objects.filter(warnings__icontains="root@localhost").exists()
    from speakout.discussion.models import Reply

    reply = Reply.objects.get(author_name="Root")
    assert privacy.anonymise(privacy.Owner.for_email("root@localhost"), reply)
    assert not ExportCheck.objects.exists()
    assert "root@localhost" not in admin_client.get("/admin/export/").content.decode()


def test_only_superusers_may_ask_for_a_check(every_case, client):
    from tests.interchange.helpers import sign_in_as_editor

    sign_in_as_editor(client, every_case["staff"])
    assert client.post("/admin/export/").status_code in (302, 403)
    assert not ExportCheck.objects.exists()


def test_deleting_a_writers_reply_drops_the_reports_that_may_name_them(every_case, admin_client):
    from speakout.discussion.models import Commenter, Reply, Thread
    from speakout.privacy import services as privacy

    admin_client.post("/admin/export/")
    assert ExportCheck.objects.filter(warnings__icontains="root@localhost").exists()
    reply = Reply.objects.get(author_name="Root")
    # The fixture stores its replies directly, without counting the approved ones.
    approved = Reply.objects.filter(thread_id=reply.thread_id, status=Reply.Status.APPROVED).count()
    Thread.objects.filter(pk=reply.thread_id).update(approved_count=approved)
    Commenter.objects.filter(pk=reply.commenter_id).update(approved_count=1)
    assert privacy.delete(privacy.Owner.for_email("root@localhost"), reply)
    assert not ExportCheck.objects.exists()
