"""Old WordPress links to imported pages, from the redirect table the importer fills, lead only
to a page anyone may read.

Wagtail's redirect middleware only acts on a 404, but ``/?p=123`` is the home page with a query
string, which answers 200: ``OldQueryLinkMiddleware`` looks such a request up (old path
``/?p=123``) before the page is served. ``PublicRedirectMiddleware`` is Wagtail's, for every
other old path (``/2019/05/my-post/``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.http import HttpResponsePermanentRedirect, HttpResponseRedirect
from wagtail.contrib.redirects.middleware import RedirectMiddleware, get_redirect
from wagtail.contrib.redirects.models import Redirect

_KEYS = ("p", "page_id", "attachment_id")


class OldQueryLinkMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in ("GET", "HEAD") and request.GET:
            for key in _KEYS:
                value = request.GET.get(key, "")
                if value.isdigit():
                    path = Redirect.normalise_path(f"{request.path}?{key}={value}")
                    redirect = (
                        Redirect.objects.filter(old_path=path, redirect_page__isnull=False)
                        .select_related("redirect_page")
                        .first()
                    )
                    if redirect is not None and redirect.link and _public(redirect.redirect_page):
                        return HttpResponsePermanentRedirect(redirect.link)
        return self.get_response(request)


class PublicRedirectMiddleware(RedirectMiddleware):
    """Wagtail's ``RedirectMiddleware.process_response`` (the same lookup: the path with its query,
    then without), but a redirect to a page that is not public answers the 404 instead."""

    def process_response(self, request, response):
        if response.status_code != 404:
            return response
        path = Redirect.normalise_path(request.get_full_path(), decode_unicode=False)
        bare_path = urlsplit(path).path
        redirect = get_redirect(request, path) or (bare_path != path and get_redirect(request, bare_path))
        if not redirect or redirect.link is None or (redirect.redirect_page and not _public(redirect.redirect_page)):
            return response
        return (HttpResponsePermanentRedirect if redirect.is_permanent else HttpResponseRedirect)(redirect.link)


def _public(page) -> bool:
    """Only a page anyone may read is found by its old link: a draft's, private or scheduled post's
    address (its slug, from its title) would otherwise go to whoever counts ids or tries old
    links. Its old link answers as an unknown one does, until it is published."""
    return page.live and not page.get_view_restrictions().exists()
