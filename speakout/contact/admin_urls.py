"""URLs of the admin inbox, mounted at /admin/contact/ by speakout/publishing/wagtail_hooks.py."""

from django.urls import path

from . import admin_views

app_name = "speakout_contact"

urlpatterns = [
    path("", admin_views.InboxView.as_view(), name="index"),
    path("export/", admin_views.export_csv, name="export"),
    path("<int:pk>/", admin_views.MessageView.as_view(), name="message"),
    path("<int:pk>/delete/", admin_views.DeleteView.as_view(), name="delete"),
]
