"""Old WordPress query links (``/?p=123``, ``/?page_id=7``) to imported pages.

Wagtail's redirect middleware only acts on a 404, but ``/?p=123`` is the home page with a query
string, which answers 200. This middleware looks such a request up in the same redirect table
the importer fills (old path ``/?p=123``) before the page is served, when that page is public.
"""

from __future__ import annotations

from django.http import HttpResponsePermanentRedirect
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


def _public(page) -> bool:
    """Only a page anyone may read is found by its old id: a draft's, private or scheduled post's
    address (its slug, from its title) would otherwise go to whoever counts ids. Its old link
    answers as an unknown id does, until it is published."""
    return page.live and not page.get_view_restrictions().exists()
