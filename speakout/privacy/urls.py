from django.urls import path

from . import views

app_name = "privacy"

# The same actions under a signed link (guests) and under the account (signed in).
_actions = [
    ("", views.manage, ""),
    ("export.json", views.export, "export"),
    ("reply/<int:reply_id>/edit/", views.edit, "edit"),
    ("reply/<int:reply_id>/delete/", views.delete, "delete"),
    ("reply/<int:reply_id>/anonymise/", views.anonymise, "anonymise"),
    ("stop-notifications/", views.stop_notifications, "stop_notifications"),
    ("forget/", views.forget, "forget"),
]

urlpatterns = [
    path("", views.privacy_page, name="page"),
    path("my-replies/", views.request_link, name="request"),
    *[
        path(f"my-replies/<str:token>/{route}", view, name=f"manage_{name}".rstrip("_"))
        for route, view, name in _actions
    ],
    # The account's version: the identity app's account page links here ("privacy:account").
    *[path(f"my-data/{route}", view, name=f"account_{name}".rstrip("_")) for route, view, name in _actions],
    path("my-data/delete-account/", views.delete_account, name="delete_account"),
]
