from django.urls import path

from . import views

app_name = "pagecache"
urlpatterns = [
    path("fill", views.fill_values, name="fill"),
]
