"""The Import and Export screens in the Wagtail admin (Settings → Import, Settings → Export)."""

from __future__ import annotations

from django.urls import include, path, reverse_lazy
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from . import admin_views, export_views


@hooks.register("register_admin_urls")
def register_import_urls():
    urls = [
        path("", admin_views.ImportView.as_view(), name="index"),
        path("<int:pk>/", admin_views.RunView.as_view(), name="run"),
        path("subscribers/", admin_views.SubscriberImportView.as_view(), name="subscribers"),
    ]
    return [path("import/", include((urls, "speakout_interchange"), namespace="speakout_interchange"))]


class ImportMenuItem(MenuItem):
    def is_shown(self, request):
        return admin_views.can_import(request.user)


@hooks.register("register_settings_menu_item")
def register_import_menu_item():
    return ImportMenuItem(
        _("Import"), reverse_lazy("speakout_interchange:index"), name="import", icon_name="download", order=950
    )


@hooks.register("register_admin_urls")
def register_export_urls():
    urls = [
        path("", export_views.ExportView.as_view(), name="index"),
        path("<str:export_format>/", export_views.DownloadView.as_view(), name="download"),
    ]
    return [path("export/", include((urls, "speakout_interchange_export"), namespace="speakout_interchange_export"))]


class ExportMenuItem(MenuItem):
    def is_shown(self, request):
        return export_views.can_export(request.user)


@hooks.register("register_settings_menu_item")
def register_export_menu_item():
    return ExportMenuItem(
        _("Export"), reverse_lazy("speakout_interchange_export:index"), name="export", icon_name="upload", order=951
    )
