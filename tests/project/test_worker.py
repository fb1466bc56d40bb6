"""The worker's clock runs scheduled jobs, such as Wagtail's scheduled publishing, without cron."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from speakout.publishing.models import ReportPage
from speakout.worker import run_due_jobs, scheduled_jobs

pytestmark = pytest.mark.django_db


#: Only the publishing job: these tests are about the clock itself.
PUBLISHING = [job for job in scheduled_jobs() if job[0] == "publish_scheduled"]


@pytest.fixture(autouse=True)
def clear_cache():
    """Fresh job locks."""
    cache.clear()
    yield
    cache.clear()


def schedule(site_builder, title, go_live_at):
    report = site_builder.report(title, live=False)
    report.go_live_at = go_live_at
    report.save_revision().publish()  # with a future go-live time, publishing only schedules
    return ReportPage.objects.get(pk=report.pk)


def test_scheduled_report_goes_live_when_its_time_comes(site_builder):
    report = schedule(site_builder, "Scheduled report", timezone.now() + timedelta(hours=1))
    assert not report.live and report.latest_revision.approved_go_live_at is not None

    ran = run_due_jobs(now=1000.0, last_run={}, jobs=PUBLISHING)
    assert ran == ["publish_scheduled"]
    assert not ReportPage.objects.get(pk=report.pk).live, "not before its time"

    # Let the scheduled time pass: move it into the past in the revision and its schedule.
    past = timezone.now() - timedelta(minutes=1)
    revision = report.latest_revision
    revision.approved_go_live_at = past
    revision.content["go_live_at"] = past.isoformat()
    revision.save()
    cache.clear()
    run_due_jobs(now=2000.0, last_run={}, jobs=PUBLISHING)

    assert ReportPage.objects.get(pk=report.pk).live


def test_a_job_runs_once_per_period(site_builder):
    last_run: dict[str, float] = {}
    assert run_due_jobs(now=1000.0, last_run=last_run, jobs=PUBLISHING) == ["publish_scheduled"]
    assert run_due_jobs(now=1001.0, last_run=last_run, jobs=PUBLISHING) == [], "too soon for this worker"


def test_workers_sharing_a_cache_do_not_both_run_a_job(site_builder):
    first_worker, second_worker = {}, {}
    assert run_due_jobs(now=1000.0, last_run=first_worker, jobs=PUBLISHING) == ["publish_scheduled"]
    assert run_due_jobs(now=1000.0, last_run=second_worker, jobs=PUBLISHING) == [], "the cache lock is held"


def test_a_failing_job_is_logged_and_does_not_stop_the_clock(caplog):
    jobs = [("broken", 60, "tests.project.test_worker.broken_job"), *PUBLISHING]
    ran = run_due_jobs(now=1000.0, last_run={}, jobs=jobs)
    assert ran == ["publish_scheduled"]
    assert "Scheduled job broken failed" in caplog.text


def test_each_app_schedules_its_own_jobs_and_the_project_adds_its_own(settings):
    """The clock gathers every installed app's ``jobs.schedule()``, then SPEAKOUT_SCHEDULED_JOBS."""
    settings.SPEAKOUT_SCHEDULED_JOBS = [("broken", 60, "tests.project.test_worker.broken_job")]
    jobs = scheduled_jobs()
    paths = {name: path for name, _every, path in jobs}
    assert paths["publish_scheduled"] == "speakout.publishing.jobs.publish_scheduled"
    assert paths["send_due_mail"] == "speakout.outbox.jobs.send_due_mail"
    assert paths["refill_default_language"] == "speakout.theme.languages.refill_default_language"
    assert jobs[-1] == ("broken", 60, "tests.project.test_worker.broken_job")
    assert len(paths) == len(jobs), "no job is listed twice"


def test_the_backup_job_follows_its_setting(settings):
    settings.SPEAKOUT_BACKUP_EVERY_HOURS = 0
    assert "backup" not in {name for name, _every, _path in scheduled_jobs()}
    settings.SPEAKOUT_BACKUP_EVERY_HOURS = 6
    assert ("backup", 6 * 3600, "speakout.interchange.backup.scheduled_backup") in scheduled_jobs()


def broken_job():
    raise RuntimeError("boom")


def test_the_worker_waits_out_a_database_outage_instead_of_exiting(monkeypatch, caplog):
    """An unreachable database must not end the worker: `speakout run` would stop the site."""
    from unittest import mock

    from django.db import OperationalError

    import speakout.worker

    monkeypatch.setattr(speakout.worker, "DATABASE_RETRY_SECONDS", 0)
    outage = OperationalError("connection to server failed: Connection refused")
    with mock.patch("django.core.management.call_command", side_effect=[outage, outage, None]) as command:
        assert speakout.worker.run_worker(interval=3600) == 0
    assert command.call_count == 3
    assert "The database is unavailable" in caplog.text
