"""The Import screen in the Wagtail admin (Settings → Import), for people allowed to import."""

from __future__ import annotations

from django.urls import include, path, reverse_lazy
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from . import admin_views


@hooks.register("register_admin_urls")
def register_import_urls():
    urls = [
        path("", admin_views.ImportView.as_view(), name="index"),
        path("<int:pk>/", admin_views.RunView.as_view(), name="run"),
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
