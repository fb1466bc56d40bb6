from django.shortcuts import render
from django.urls import include, path

from speakout.discussion.services import get_or_create_thread


def article(request):
    thread = get_or_create_thread("article-1", url="http://testserver/article/", title="An article")
    return render(request, "article.html", {"thread": thread})


urlpatterns = [
    path("article/", article),
    path("discussion/", include("speakout.discussion.urls")),
    path("", include("speakout.embed.urls")),
]
