from django.urls import path

from . import app_settings, isso, views
from .api import api

app_name = "embed"

urlpatterns = [
    path("embed.js", views.embed_js, name="js"),
    path("embed.css", views.embed_css, name="css"),
    path("embed/api/", api.urls),
    path("embed/signin/", views.signin, name="signin"),
    path("embed/thread/", views.thread_page, name="thread"),
    path("embed/thread/post/", views.thread_post, name="thread_post"),
]

if app_settings.ISSO_PREFIX:
    urlpatterns += isso.urlpatterns(app_settings.ISSO_PREFIX)
