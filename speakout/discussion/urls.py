from django.urls import path

from . import feeds, views

app_name = "discussion"

urlpatterns = [
    path("post/", views.post_reply, name="post"),
    path("reply/<int:reply_id>/", views.reply_permalink, name="reply"),
    path("reply/<int:reply_id>/edit/", views.edit_reply, name="reply_edit"),
    path("reply/<int:reply_id>/delete/", views.delete_reply, name="reply_delete"),
    path("reply/<int:reply_id>/report/", views.report_reply, name="reply_report"),
    path("avatar/<str:key>.svg", views.avatar, name="avatar"),
    path("feed/<str:flavour>/", feeds.latest_replies_feed, name="feed"),
    path("thread/<str:key>/feed/<str:flavour>/", feeds.thread_feed, name="thread_feed"),
    # Any key, "/" included: ?key=... (see feeds.thread_feed_url).
    path("thread/feed/<str:flavour>/", feeds.thread_feed, name="thread_feed_by_key"),
]
