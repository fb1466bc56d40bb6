"""The page cache's safety nets, driven through Django's own CSRF middleware and a real view."""

from __future__ import annotations

from django.core.checks import run_checks
from django.http import HttpResponse
from django.middleware.csrf import CsrfViewMiddleware, get_token
from django.template import engines
from django.test import RequestFactory, override_settings

from speakout.pagecache.capture import share
from speakout.pagecache.middleware import STATUS_HEADER, PageCacheMiddleware


def chain(view):
    return CsrfViewMiddleware(PageCacheMiddleware(view))


def test_a_page_that_reads_a_real_csrf_token_is_never_stored(db):
    def view(request):
        share(request)
        return HttpResponse(f"token {get_token(request)}")

    handler = chain(view)
    first = handler(RequestFactory().get("/somewhere/"))
    second = handler(RequestFactory().get("/somewhere/"))
    assert STATUS_HEADER not in first and STATUS_HEADER not in second
    assert first.content != second.content


def test_template_tokens_are_placeholders_filled_per_reader(db):
    template = engines["django"].from_string("<form>{% csrf_token %}</form> speakout-hole-0000000000000000-0-")

    def view(request):
        share(request)
        return HttpResponse(template.render({}, request))

    handler = chain(view)
    first = handler(RequestFactory().get("/form/"))
    second = handler(RequestFactory().get("/form/"))
    assert (first[STATUS_HEADER], second[STATUS_HEADER]) == ("miss", "hit")
    assert first.content != second.content
    assert b"csrfmiddlewaretoken" in second.content
    assert "csrftoken" in second.cookies  # set by Django's CSRF middleware for this reader
    # Text that merely looks like a placeholder (a reader could type it) stays as it was.
    assert b"speakout-hole-0000000000000000-0-" in second.content


def test_views_that_do_not_share_are_not_stored(db):
    handler = chain(lambda request: HttpResponse("personal"))
    assert STATUS_HEADER not in handler(RequestFactory().get("/mine/"))
    assert STATUS_HEADER not in handler(RequestFactory().get("/mine/"))


def test_the_cache_must_sit_inside_the_csrf_middleware(settings):
    wrong = [m for m in settings.MIDDLEWARE if m != "speakout.pagecache.middleware.PageCacheMiddleware"]
    wrong.insert(0, "speakout.pagecache.middleware.PageCacheMiddleware")
    with override_settings(MIDDLEWARE=wrong):
        assert "speakout_pagecache.E001" in [error.id for error in run_checks()]
    assert "speakout_pagecache.E001" not in [error.id for error in run_checks()]
