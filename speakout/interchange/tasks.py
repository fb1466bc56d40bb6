"""Background tasks of the interchange app (django-tasks). They take ids, never rows."""

from __future__ import annotations

import time

from django_tasks import task


@task()
def run_import_task(run_id: int) -> str:
    """Run an import uploaded in the admin; progress goes to ``progress``, the result to the run."""
    from django.utils import timezone
    from django.utils.translation import gettext as _

    from . import progress as progress_store
    from .errors import ImportFailed
    from .importers import run_import
    from .models import ImportRun
    from .storage import delete_upload

    run = ImportRun.objects.filter(pk=run_id, status=ImportRun.Status.QUEUED).first()
    runs = ImportRun.objects.filter(pk=run_id)
    # Claimed only if still queued: the leftover sweep may have failed it (and deleted its files).
    if run is None or not runs.filter(status=ImportRun.Status.QUEUED).update(
        status=ImportRun.Status.RUNNING, started_at=timezone.now()
    ):
        return "gone"
    last = [0.0]

    def report(progress) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.5 or progress.fraction >= 1:
            last[0] = now
            progress_store.save(run.pk, progress.as_dict())

    try:
        result = run_import(
            run.file.path,
            format=run.format or None,
            dry_run=run.dry_run,
            media_dir=run.media_file.path if run.media_file else None,
            on_progress=report,
        )
    except Exception as error:
        known = isinstance(error, ImportFailed)
        message = (
            str(error)
            if known
            else _("The import stopped on an unexpected error (see the worker's log). Nothing was imported.")
        )
        runs.update(status=ImportRun.Status.FAILED, error=message, finished_at=timezone.now(), file="", media_file="")
        if not known:
            raise
        return "failed"
    finally:
        # The upload holds commenters' addresses and private posts: it goes with the run,
        # whatever the outcome (a crash too).
        delete_upload(run.file)
        delete_upload(run.media_file)
    runs.update(
        status=ImportRun.Status.DONE, summary=result.as_dict(), finished_at=timezone.now(), file="", media_file=""
    )
    return "done"


@task()
def index_pages_task(page_ids: list[int]) -> int:
    """Search and reference index entries for the pages an import added in one batch: what the
    two tasks Wagtail queues for each saved page do (modelsearch's and the reference index's),
    as one task per batch of pages. Returns the number of pages indexed."""
    from django.db import transaction
    from modelsearch import index
    from wagtail.models import Page, ReferenceIndex

    pages = list(Page.objects.filter(pk__in=page_ids).specific())
    for page in pages:
        index.insert_or_update_object(page)
        if ReferenceIndex.is_indexed(type(page)):
            with transaction.atomic():
                ReferenceIndex.create_or_update_for_object(page)
    return len(pages)


@task()
def check_export_task(check_id: int) -> str:
    """Build the WXR export without keeping it and store its report in the check."""
    from django.utils import timezone
    from django.utils.translation import override

    from .export_views import NullWriter
    from .models import ExportCheck
    from .wxr_export import export_wxr

    check = ExportCheck.objects.filter(pk=check_id, status=ExportCheck.Status.QUEUED).first()
    if check is None:
        return "gone"
    checks = ExportCheck.objects.filter(pk=check.pk)
    checks.update(status=ExportCheck.Status.RUNNING)
    try:
        with override(check.language or None):
            report = export_wxr(NullWriter()).report
    except Exception:
        checks.update(status=ExportCheck.Status.FAILED, finished_at=timezone.now())
        raise
    checks.update(
        status=ExportCheck.Status.DONE,
        counts=dict(report.counts),
        replies_by_status=dict(report.replies_by_status),
        warnings=[list(warning) for warning in report.warnings],
        finished_at=timezone.now(),
    )
    return "done"
