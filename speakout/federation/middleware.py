"""Content negotiation on report pages: a request asking for ActivityStreams (the way Mastodon
looks a URL up) gets the report's ``Article`` (at a federated member reply's address, its
``Note``: replies_out.py); every other answer says it varies by ``Accept``.

It sits above the page cache, which never answers such a request (pagecache.middleware
``asks_for_json_ld``), so a cached HTML page is never served as JSON, nor the other way round.
"""

from __future__ import annotations

from typing import Any

from django.utils.cache import patch_vary_headers

from . import jsonld
from .urls_helpers import absolute


class ActivityNegotiationMiddleware:
    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        if request.method in ("GET", "HEAD") and jsonld.accepts_activity_json(request.META.get("HTTP_ACCEPT", "")):
            answer = article_response(request.path)
            if answer is None:
                from .replies_out import note_response

                answer = note_response(request.path)
            if answer is not None:
                return answer
        response = self.get_response(request)
        if request.method in ("GET", "HEAD") and response.get("Content-Type", "").startswith("text/html"):
            patch_vary_headers(response, ["Accept"])
        return response


def article_response(path: str) -> Any:
    from speakout.publishing.discussion import report_is_public
    from speakout.publishing.models import ReportPage

    from .documents import CONTEXT, article
    from .models import FederationSettings, PublishedArticle
    from .views import activity_response

    published = PublishedArticle.objects.filter(object_id=absolute(path), deleted=False).first()
    if published is None or not FederationSettings.load().enabled:
        return None
    report = ReportPage.objects.filter(pk=published.page_id).first()
    if report is None or not report_is_public(report):
        return None
    return activity_response({"@context": CONTEXT, **article(report, published)})
