"""The Import and Export screens in the Wagtail admin (Settings → Import, Settings → Export).

The screens' modules (and through them the importers, the writers and the exporters) load with
their first request, not with every web process: most processes only serve readers.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module

from django.urls import include, path, reverse_lazy
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from .permissions import can_export, can_import


def screen(module: str, name: str):
    """The view ``name`` of ``speakout.interchange.<module>``, imported when first asked for."""

    @cache
    def view():
        return getattr(import_module(f"speakout.interchange.{module}"), name).as_view()

    def dispatch(request, *args, **kwargs):
        return view()(request, *args, **kwargs)

    dispatch.__name__ = dispatch.__qualname__ = name
    return dispatch


@hooks.register("register_admin_urls")
def register_import_urls():
    urls = [
        path("", screen("admin_views", "ImportView"), name="index"),
        path("<int:pk>/", screen("admin_views", "RunView"), name="run"),
        path("subscribers/", screen("admin_views", "SubscriberImportView"), name="subscribers"),
    ]
    return [path("import/", include((urls, "speakout_interchange"), namespace="speakout_interchange"))]


class ImportMenuItem(MenuItem):
    def is_shown(self, request):
        return can_import(request.user)


@hooks.register("register_settings_menu_item")
def register_import_menu_item():
    return ImportMenuItem(
        _("Import"), reverse_lazy("speakout_interchange:index"), name="import", icon_name="download", order=950
    )


@hooks.register("register_admin_urls")
def register_export_urls():
    urls = [
        path("", screen("export_views", "ExportView"), name="index"),
        path("<str:export_format>/", screen("export_views", "DownloadView"), name="download"),
    ]
    return [path("export/", include((urls, "speakout_interchange_export"), namespace="speakout_interchange_export"))]


class ExportMenuItem(MenuItem):
    def is_shown(self, request):
        return can_export(request.user)


@hooks.register("register_settings_menu_item")
def register_export_menu_item():
    return ExportMenuItem(
        _("Export"), reverse_lazy("speakout_interchange_export:index"), name="export", icon_name="upload", order=951
    )
