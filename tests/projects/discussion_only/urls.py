from django.shortcuts import render
from django.urls import include, path

from speakout.discussion.services import get_or_create_thread


def article(request):
    thread = get_or_create_thread("article-1", url="http://testserver/article/", title="An article")
    return render(request, "article.html", {"thread": thread})


def notes(request):
    """A thread keyed by a page's path, as embeds and Isso's clients key theirs."""
    thread = get_or_create_thread("/notes/", url="https://static.example.org/notes/", title="Notes")
    return render(request, "article.html", {"thread": thread})


urlpatterns = [
    path("article/", article),
    path("notes/", notes),
    path("discussion/", include("speakout.discussion.urls")),
    path("", include("speakout.embed.urls")),
]
