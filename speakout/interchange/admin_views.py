"""The "Import" screen in the Wagtail admin: upload an export, watch it run, read the result.

The import runs as a background task (the worker); the run's page shows its progress and
reloads itself until the run is over (a meta refresh: no script needed).
"""

from __future__ import annotations

from django.contrib.auth.mixins import UserPassesTestMixin
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views import View
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from . import app_settings
from . import progress as progress_store
from .forms import ImportForm, SubscriberImportForm, too_large
from .models import ImportRun
from .permissions import can_import
from .report import summary_lines
from .tasks import run_import_task

SUBSCRIBER_FILE_MAX_BYTES = 20 * 1024 * 1024


class _Guarded(UserPassesTestMixin, WagtailAdminTemplateMixin, View):
    raise_exception = True  # a 403, not the sign-in page
    header_icon = "download"

    def get_breadcrumbs_items(self):
        # Headed by the screen's own title, not Wagtail's bare "Home".
        return self.breadcrumbs_items + [{"url": None, "label": self.get_page_title()}]

    def test_func(self):
        return can_import(self.request.user)


class ImportView(_Guarded):
    template_name = "interchange/admin/index.html"
    page_title = _("Import")

    def get(self, request, *args, **kwargs):
        return self.render(ImportForm())

    def post(self, request, *args, **kwargs):
        limit = app_settings.MAX_UPLOAD_BYTES + app_settings.MEDIA_MAX_BYTES
        if _announced_size(request) > limit + 1024 * 1024:
            # Answered before the body is read, so an oversized upload is never spooled to disk.
            form = ImportForm(data={}, files={})
            form.errors["file"] = form.error_class([too_large(limit, "SPEAKOUT_IMPORT_MAX_FILE_MB")])
            return self.render(form, status=413)
        form = ImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render(form, status=400)
        upload = form.cleaned_data["file"]
        run = ImportRun.objects.create(
            file=upload,
            media_file=form.cleaned_data["media"] or "",
            original_name=upload.name[:300],
            format=form.cleaned_data["format"],
            dry_run=form.cleaned_data["dry_run"],
            started_by=request.user,
        )
        run_import_task.enqueue(run.pk)
        return HttpResponseRedirect(reverse("speakout_interchange:run", args=[run.pk]))

    def render(self, form, status=200, subscriber_form=None):
        context = self.get_context_data(
            form=form, subscriber_form=subscriber_form or SubscriberImportForm(), runs=ImportRun.objects.all()[:20]
        )
        return self.render_to_response(context, status=status)


class SubscriberImportView(_Guarded):
    """WordPress.com's subscriber list: read at once (a list is small), nobody mailed unless asked."""

    template_name = "interchange/admin/subscribers.html"
    page_title = _("Import subscribers")
    header_icon = "mail"

    def get(self, request, *args, **kwargs):
        return HttpResponseRedirect(reverse("speakout_interchange:index"))

    def post(self, request, *args, **kwargs):
        from speakout.subscriptions.subscriber_csv import SubscriberFileError, import_subscribers

        form = SubscriberImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                if upload.size > SUBSCRIBER_FILE_MAX_BYTES:
                    raise SubscriberFileError(_("The file is larger than 20 MB; use `speakout import-subscribers`."))
                text = upload.read().decode("utf-8-sig")
                result = import_subscribers(
                    text,
                    send_confirmations=form.cleaned_data["send_confirmations"],
                    dry_run=form.cleaned_data["dry_run"],
                )
            except (SubscriberFileError, UnicodeDecodeError) as error:
                message = str(error) if isinstance(error, SubscriberFileError) else _("The file is not UTF-8 text.")
                form.add_error("file", f"{message} {_('Nothing was imported.')}")
            else:
                context = self.get_context_data(
                    lines=result.lines(),
                    dry_run=form.cleaned_data["dry_run"],
                    index_url=reverse("speakout_interchange:index"),
                )
                return self.render_to_response(context)
        view = ImportView()
        view.setup(request)
        return view.render(ImportForm(), status=400, subscriber_form=form)


def _announced_size(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


class RunView(_Guarded):
    template_name = "interchange/admin/run.html"
    page_title = _("Import")

    def get(self, request, pk, *args, **kwargs):
        run = get_object_or_404(ImportRun, pk=pk)
        running = run.status in (ImportRun.Status.QUEUED, ImportRun.Status.RUNNING)
        progress = progress_store.load(run.pk) if running else {}
        context = self.get_context_data(
            run=run,
            running=running,
            progress=progress,
            percent=int((progress.get("fraction") or 0) * 100),
            lines=summary_lines(run.summary) if run.status == ImportRun.Status.DONE else [],
            index_url=reverse("speakout_interchange:index"),
        )
        return self.render_to_response(context)
