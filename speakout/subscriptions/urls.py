from django.urls import path

from . import account, views

app_name = "subscriptions"

urlpatterns = [
    path("follow/", views.follow, name="follow"),
    path("posts/", views.posts, name="posts"),
    path("mine/", account.my_subscriptions, name="mine"),
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("unsubscribe-all/<str:token>/", views.unsubscribe_all, name="unsubscribe_all"),
]
