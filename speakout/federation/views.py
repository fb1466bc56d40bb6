"""Discovery (WebFinger, NodeInfo), the site actor, its collections, and the inbox."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from speakout.discussion.moderation import can_moderate

from . import documents, jsonld
from .models import FederationSettings, Follower, PublishedArticle, RemoteActor
from .urls_helpers import absolute, actor_url, address

SOFTWARE = "speakout"


def activity_response(document: dict[str, Any]) -> HttpResponse:
    return HttpResponse(json.dumps(document), content_type=jsonld.CONTENT_TYPE, headers={"Vary": "Accept"})


def _enabled() -> FederationSettings:
    config = FederationSettings.load()
    if not config.enabled:
        raise Http404("Federation is off.")
    return config


@require_GET
def webfinger(request: HttpRequest) -> HttpResponse:
    config = _enabled()
    resource = request.GET.get("resource", "")
    host = urlsplit(settings.BASE_URL).hostname or ""
    wanted = {f"acct:{config.username}@{host}", actor_url(), absolute("/")}
    if resource not in wanted:
        return JsonResponse({"error": "unknown resource"}, status=404)
    document = {
        "subject": f"acct:{config.username}@{host}",
        "aliases": [actor_url()],
        "links": [
            {"rel": "self", "type": jsonld.CONTENT_TYPE, "href": actor_url()},
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": absolute("/")},
        ],
    }
    return JsonResponse(document, content_type="application/jrd+json", headers={"Access-Control-Allow-Origin": "*"})


@require_GET
def nodeinfo_links(request: HttpRequest) -> HttpResponse:
    _enabled()
    return JsonResponse(
        {
            "links": [
                {
                    "rel": "http://nodeinfo.diaspora.software/ns/schema/2.1",
                    "href": address("nodeinfo"),
                }
            ]
        }
    )


@require_GET
def nodeinfo(request: HttpRequest) -> HttpResponse:
    _enabled()
    from importlib.metadata import PackageNotFoundError, version

    try:
        __version__ = version("speakout")
    except PackageNotFoundError:
        __version__ = "0"
    document = {
        "version": "2.1",
        "software": {"name": SOFTWARE, "version": __version__},
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": ["atom1.0", "rss2.0"]},
        "openRegistrations": False,
        "usage": {"users": {"total": 1}, "localPosts": PublishedArticle.objects.filter(deleted=False).count()},
        "metadata": {},
    }
    return JsonResponse(
        document, content_type='application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.1#"'
    )


@require_GET
def actor(request: HttpRequest) -> HttpResponse:
    return activity_response(documents.actor(_enabled()))


@require_GET
def followers(request: HttpRequest) -> HttpResponse:
    """The number of followers, never who they are: following an at-risk group can put a person
    at risk, and no server needs the list (each knows which of its own accounts follow)."""
    _enabled()
    if "page" in request.GET:
        raise Http404("Followers are not listed.")
    count = Follower.objects.filter(state=Follower.State.ACCEPTED).count()
    return activity_response(documents.collection(address("followers"), [], count, None, paged=False))


@require_GET
def outbox(request: HttpRequest) -> HttpResponse:
    """The reports' ``Create`` activities, newest first: the collection, or the page ``?page=`` asks for."""
    from speakout.publishing.discussion import report_is_public
    from speakout.publishing.models import ReportPage

    _enabled()
    raw = request.GET.get("page")
    if raw is not None and (not raw.isdigit() or int(raw) < 1):
        raise Http404("No such page.")
    page = int(raw) if raw is not None else None
    articles = PublishedArticle.objects.filter(deleted=False, announced=True).order_by("-published_at", "-pk")
    items: list[Any] = []
    if page is not None:
        start = (page - 1) * documents.PAGE_SIZE
        chosen = list(articles[start : start + documents.PAGE_SIZE])
        pages = {report.pk: report for report in ReportPage.objects.filter(pk__in=[a.page_id for a in chosen])}
        for article in chosen:
            report = pages.get(article.page_id)
            if report is None or not report_is_public(report):  # as its own address answers
                continue
            document = documents.article(report, article)
            items.append(
                {"id": article.object_id + "#create", "type": "Create", "actor": actor_url(), "object": document,
                 "to": document["to"], "cc": document["cc"], "published": document["published"]}
            )  # fmt: skip
    return activity_response(documents.collection(address("outbox"), items, articles.count(), page))


@csrf_exempt
@require_POST
def inbox_view(request: HttpRequest) -> HttpResponse:
    # Imported here: the inbox brings the signature libraries, which a web process that never
    # receives an activity need not carry (web process memory target, docs/benchmarks.md).
    from . import inbox

    answer = inbox.receive(request)
    if answer.status >= 400:
        return JsonResponse({"error": answer.message}, status=answer.status)
    return HttpResponse(status=answer.status)


@require_GET
def activity(request: HttpRequest, kind: str, token: str) -> HttpResponse:
    raise Http404("Activities are not kept.")


def _has_a_public_reply(commenter_id: int) -> bool:
    from speakout.discussion.models import Reply, Thread

    return (
        Reply.objects.filter(commenter_id=commenter_id, status=Reply.Status.APPROVED, thread__is_public=True)
        .exclude(thread__status=Thread.Status.HIDDEN)
        .exists()
    )


@require_GET
def avatar(request: HttpRequest, actor_id: int) -> HttpResponse:
    """A kept picture, beside a reply anyone may read (or for the moderators). Its address is a
    number: serving every kept one would list, to anyone counting through them, the accounts
    whose replies were held, refused or removed."""
    remote = RemoteActor.objects.filter(pk=actor_id).exclude(avatar=None).first()
    if remote is None or not remote.avatar:
        raise Http404("No picture.")
    shown = remote.commenter_id is not None and _has_a_public_reply(remote.commenter_id)
    if not (shown or can_moderate(request.user)):
        raise Http404("No picture.")
    response = HttpResponse(bytes(remote.avatar), content_type=remote.avatar_type)
    response["Cache-Control"] = "public, max-age=3600" if shown else "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response
