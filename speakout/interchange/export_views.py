"""The "Export" screen in the Wagtail admin: the files to download, and the report of the last
check of what WordPress will make of the WXR export (made by the worker on request: building the
export takes seconds on a large site, too long for a page view).

Only superusers see it: an export holds every commenter's address.
"""

from __future__ import annotations

import io
import tempfile
from collections import Counter
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.mixins import UserPassesTestMixin
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.views import View
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from .export_report import ExportReport
from .json_export import export_json
from .models import ExportCheck
from .permissions import can_export
from .wxr_export import export_wxr

# A check still queued or running after this long is taken as lost (a worker stopped mid-way):
# a new one may start.
CHECK_GIVEN_UP_AFTER = timedelta(hours=1)
# A check's report names addresses (those WordPress would refuse): it is shown a day at most and
# deleted by the worker's hourly job, never by a page view; only the latest is kept
# (receivers.py also drops them when a writer is anonymised).
CHECK_KEPT_FOR = timedelta(days=1)


def forget_expired_checks() -> int:
    """Delete the checks older than CHECK_KEPT_FOR; returns how many went."""
    return ExportCheck.objects.filter(created_at__lt=timezone.now() - CHECK_KEPT_FOR).delete()[0]


def _export_subscribers(out) -> int:
    from speakout.subscriptions.subscriber_csv import export_subscribers

    return export_subscribers(out)


EXPORTERS = {"wxr": (export_wxr, "xml"), "json": (export_json, "json"), "subscribers": (_export_subscribers, "csv")}


class NullWriter:
    def write(self, text: str) -> int:
        return len(text)


class _Guarded(UserPassesTestMixin, View):
    raise_exception = True  # a 403, not the sign-in page

    def test_func(self):
        return can_export(self.request.user)


def check_in_progress() -> ExportCheck | None:
    return (
        ExportCheck.objects.filter(
            status__in=[ExportCheck.Status.QUEUED, ExportCheck.Status.RUNNING],
            created_at__gte=timezone.now() - CHECK_GIVEN_UP_AFTER,
        )
        .order_by("-pk")
        .first()
    )


class ExportView(_Guarded, WagtailAdminTemplateMixin):
    """The downloads, and the last check of the WXR export; a POST asks the worker for a new check."""

    template_name = "interchange/admin/export.html"
    page_title = _("Export")
    header_icon = "upload"

    def get(self, request, *args, **kwargs):
        running = check_in_progress()
        kept = ExportCheck.objects.filter(created_at__gte=timezone.now() - CHECK_KEPT_FOR)
        done = kept.filter(status=ExportCheck.Status.DONE).order_by("-pk").first()
        context = {"running": running, "checked": done, "lines": [], "warnings": []}
        if done is not None:
            report = ExportReport(
                counts=Counter(done.counts),
                replies_by_status=Counter(done.replies_by_status),
                warnings=[tuple(warning) for warning in done.warnings],
            )
            context.update(lines=report.lines(), warnings=report.warnings)
        return self.render_to_response(self.get_context_data(**context))

    def post(self, request, *args, **kwargs):
        from .tasks import check_export_task

        if check_in_progress() is None:
            ExportCheck.objects.all().delete()
            check = ExportCheck.objects.create(language=translation.get_language() or "", started_by=request.user)
            check_export_task.enqueue(check.pk)
        messages.info(request, _("The worker is checking the export; this page shows the result when it is done."))
        return redirect("speakout_interchange_export:index")


class DownloadView(_Guarded):
    def get(self, request, export_format: str, *args, **kwargs):
        if export_format not in EXPORTERS:
            raise Http404
        exporter, extension = EXPORTERS[export_format]
        # A temporary file (not the media folder): the export is for this download only.
        handle = tempfile.TemporaryFile(mode="w+b")
        out = io.TextIOWrapper(handle, encoding="utf-8")
        exporter(out)
        out.flush()
        out.detach()
        handle.seek(0)
        kind = "-subscribers" if export_format == "subscribers" else ""
        name = f"speakout{kind}-{timezone.now():%Y-%m-%d}.{extension}"
        return FileResponse(handle, as_attachment=True, filename=name)
