"""What an import leaves on disk is swept by the worker: an upload holds every commenter's
address, drafts and post passwords, and fetched or unpacked media can be gigabytes. After
``SPEAKOUT_IMPORT_LEFTOVER_DAYS`` the job deletes the uploads of runs that ended, never started
or stopped with their worker, media fetched for an import that no import has used since, and the
scratch folder of an unpacking that never finished; a queued, running or recent run keeps all
it needs."""

from __future__ import annotations

import io
import os
import tarfile
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from speakout.interchange import media
from speakout.interchange.jobs import sweep_leftovers
from speakout.interchange.models import ImportRun
from speakout.interchange.tasks import run_import_task
from speakout.worker import scheduled_jobs
from tests.interchange.helpers import export, picture

pytestmark = pytest.mark.django_db

DAY = 24 * 3600


@pytest.fixture
def private(settings, tmp_path):
    settings.SPEAKOUT_PRIVATE_DIR = tmp_path / "private"
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.DATA_DIR = tmp_path / "data"
    settings.SPEAKOUT_INTERCHANGE_LEFTOVER_DAYS = 7
    return tmp_path / "private"


def aged(path: Path, days: float) -> Path:
    when = time.time() - days * DAY
    os.utime(path, (when, when))
    return path


def make_run(status: str, *, created_days: float = 0, started_days: float | None = None, finished_days=None):
    run = ImportRun.objects.create(status=status, original_name="export.xml")
    run.file.save("x", ContentFile(b"commenter@example.org"), save=False)
    run.media_file.save("x", ContentFile(b"tar"), save=False)
    now = timezone.now()
    ImportRun.objects.filter(pk=run.pk).update(
        file=run.file.name,
        media_file=run.media_file.name,
        created_at=now - timedelta(days=created_days),
        started_at=None if started_days is None else now - timedelta(days=started_days),
        finished_at=None if finished_days is None else now - timedelta(days=finished_days),
    )
    for field in (run.file, run.media_file):
        aged(Path(field.path), created_days)
    run.refresh_from_db()
    return run


def stored(run: ImportRun) -> list[bool]:
    return [Path(run.file.storage.path(name)).exists() for name in (run.file.name, run.media_file.name)]


def test_the_worker_runs_the_sweep():
    assert ("interchange_leftovers", 3600, "speakout.interchange.jobs.sweep_leftovers") in scheduled_jobs()


def test_a_run_that_never_started_loses_its_upload_after_the_delay_and_fails_clearly(private, caplog):
    old = make_run(ImportRun.Status.QUEUED, created_days=8)
    recent = make_run(ImportRun.Status.QUEUED, created_days=6)

    with caplog.at_level("INFO", logger="speakout.interchange.jobs"):
        assert sweep_leftovers() == 2
    assert "Deleted 2 files and folders that imports left behind" in caplog.text

    old_files = stored(old)
    old.refresh_from_db()
    assert old_files == [False, False]
    assert old.status == ImportRun.Status.FAILED and "7 days" in old.error and old.finished_at is not None
    assert not old.file and not old.media_file
    recent.refresh_from_db()
    assert recent.status == ImportRun.Status.QUEUED and stored(recent) == [True, True]
    # Its task, run late after all, finds nothing to do instead of failing on a missing file.
    assert run_import_task.call(old.pk) == "gone"


def test_a_run_whose_worker_stopped_loses_its_upload_but_a_run_still_going_keeps_it(private):
    dead = make_run(ImportRun.Status.RUNNING, created_days=9, started_days=8)
    # Taken by a version that did not record when: its upload tells the age.
    dead_before_upgrade = make_run(ImportRun.Status.RUNNING, created_days=9)
    # Queued for a long time (the worker was down), then started a day ago: still at work.
    going = make_run(ImportRun.Status.RUNNING, created_days=30, started_days=1)

    sweep_leftovers()

    for run in (dead, dead_before_upgrade):
        files = stored(run)
        run.refresh_from_db()
        assert files == [False, False] and run.status == ImportRun.Status.FAILED
    going.refresh_from_db()
    assert going.status == ImportRun.Status.RUNNING and stored(going) == [True, True]


def test_files_no_waiting_run_names_go_after_the_delay(private):
    """An ended run forgets its files; one that lost them to a crash between writing the upload
    and recording it, or whose row was deleted, leaves them to nobody."""
    ended = make_run(ImportRun.Status.DONE, created_days=10, started_days=10, finished_days=9)
    orphans = [Path(ended.file.path), Path(ended.media_file.path)]
    ImportRun.objects.filter(pk=ended.pk).update(file="", media_file="")
    fresh = orphans[0].parent / "fresh.upload"
    fresh.write_bytes(b"new")

    sweep_leftovers()

    assert not any(path.exists() for path in orphans)
    assert fresh.exists(), "an upload from today, whose run is being written, stays"


def test_fetched_media_goes_when_no_import_used_it_for_the_delay(private, settings):
    settings.SPEAKOUT_FETCH_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    folder = media.cache_folder()
    folder.mkdir(parents=True)
    stale = media.cached("https://old.example.org/wp-content/uploads/a.jpg")
    stale.write_bytes(b"a")
    aged(stale, 8)
    partial = folder / "0123.partial"
    partial.write_bytes(b"half")
    aged(partial, 8)
    # Fetched long ago but asked for again by an import today: it resumes from the cache.
    reused_url = "https://old.example.org/wp-content/uploads/b.jpg"
    reused = media.cached(reused_url)
    reused.write_bytes(picture("JPEG"))
    aged(reused, 8)
    report = media.fetch_media([reused_url])
    assert report.already == 1

    sweep_leftovers()

    assert not stale.exists() and not partial.exists()
    assert reused.exists()


def test_an_unpacking_the_worker_never_finished_is_swept(private, site, tmp_path):
    """Media archives are unpacked in the private folder (not the system's temporary one, often
    small or in memory), where a crash's leftovers are found and deleted."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        data = picture("JPEG")
        info = tarfile.TarInfo("media/2024/01/photo.jpg")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    archive = tmp_path / "media.tar"
    archive.write_bytes(buffer.getvalue())
    with media.media_folder(archive) as unpacked:
        assert unpacked is not None and unpacked.resolve().is_relative_to(private.resolve())
        during = list(media.scratch_folder().iterdir())
    assert len(during) == 1 and not during[0].exists(), "gone when the import ends"
    crashed = media.scratch_folder() / "speakout-media-crashed"
    (crashed / "2024").mkdir(parents=True)
    (crashed / "2024" / "photo.jpg").write_bytes(b"x")
    aged(crashed, 8)
    recent = media.scratch_folder() / "speakout-media-running"
    recent.mkdir()

    sweep_leftovers()

    assert not crashed.exists() and recent.exists()


def test_progress_files_of_ended_runs_are_swept(private, settings):
    from speakout.interchange import progress

    ended = make_run(ImportRun.Status.FAILED, created_days=9, started_days=9, finished_days=9)
    going = make_run(ImportRun.Status.RUNNING, created_days=0, started_days=0)
    for run in (ended, going):
        progress.save(run.pk, {"fraction": 0.5})
    aged(progress._path(ended.pk), 9)
    aged(progress._path(going.pk), 9)

    sweep_leftovers()

    assert progress.load(ended.pk) == {} and progress.load(going.pk) == {"fraction": 0.5}


def test_zero_days_turns_the_sweep_off(private, settings):
    settings.SPEAKOUT_INTERCHANGE_LEFTOVER_DAYS = 0
    old = make_run(ImportRun.Status.QUEUED, created_days=100)

    sweep_leftovers()

    old.refresh_from_db()
    assert old.status == ImportRun.Status.QUEUED and stored(old) == [True, True]


def test_a_finished_import_still_deletes_its_upload_at_once(private, site, tmp_path):
    """The sweep is the safety net: a run that ends deletes its files itself, as before."""
    run = ImportRun.objects.create(original_name="export.xml")
    run.file.save("x", ContentFile(export("https://old.example.org").encode()))
    assert run_import_task.call(run.pk) == "done"
    run.refresh_from_db()
    assert run.status == ImportRun.Status.DONE and run.started_at is not None and not run.file
    assert not any(path.is_file() for path in (private / "imports").rglob("*"))
