from django.urls import path

from . import views

app_name = "federation"

urlpatterns = [
    path(".well-known/webfinger", views.webfinger, name="webfinger"),
    path(".well-known/nodeinfo", views.nodeinfo_links, name="nodeinfo-links"),
    path("federation/nodeinfo/2.1", views.nodeinfo, name="nodeinfo"),
    path("federation/actor", views.actor, name="actor"),
    path("federation/inbox", views.inbox_view, name="inbox"),
    path("federation/outbox", views.outbox, name="outbox"),
    path("federation/followers", views.followers, name="followers"),
    path("federation/activities/<slug:kind>/<slug:token>", views.activity, name="activity"),
    path("federation/avatars/<int:actor_id>", views.avatar, name="avatar"),
]
