"""The "Export" screen in the Wagtail admin: the export's report, and the files to download.

Only superusers see it: an export holds every commenter's address.
"""

from __future__ import annotations

import io
import tempfile

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views import View
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from .json_export import export_json
from .wxr_export import export_wxr


def _export_subscribers(out) -> int:
    from speakout.subscriptions.subscriber_csv import export_subscribers

    return export_subscribers(out)


EXPORTERS = {"wxr": (export_wxr, "xml"), "json": (export_json, "json"), "subscribers": (_export_subscribers, "csv")}


def can_export(user) -> bool:
    return user.is_active and user.is_superuser


class _NullWriter:
    def write(self, text: str) -> int:
        return len(text)


class _Guarded(View):
    def dispatch(self, request, *args, **kwargs):
        if not can_export(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class ExportView(_Guarded, WagtailAdminTemplateMixin):
    """Runs the WXR export once without keeping it, to show what WordPress will make of it."""

    template_name = "interchange/admin/export.html"
    page_title = _("Export")
    header_icon = "upload"

    def get(self, request, *args, **kwargs):
        report = export_wxr(_NullWriter()).report
        return self.render_to_response(self.get_context_data(lines=report.lines(), warnings=report.warnings))


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
