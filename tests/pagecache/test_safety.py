"""The page cache's safety nets, driven through Django's own CSRF middleware and a real view."""

from __future__ import annotations

import re

from django.core.checks import run_checks
from django.http import HttpResponse
from django.middleware.csrf import CsrfViewMiddleware, get_token
from django.template import engines
from django.test import RequestFactory, override_settings

from speakout.pagecache.capture import share
from speakout.pagecache.holes import marker, spec_for
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


def test_template_tokens_are_stored_as_fill_markers_in_html_and_filled_per_reader_elsewhere(db):
    template = engines["django"].from_string("<form>{% csrf_token %}</form> speakout-hole-0000000000000000-0-")

    def view(request, content_type):
        share(request)
        return HttpResponse(template.render({}, request), content_type=content_type)

    # HTML: the same bytes for everyone, the token a signed marker; no cookie is set.
    handler = chain(lambda request: view(request, "text/html; charset=utf-8"))
    first = handler(RequestFactory().get("/form/"))
    second = handler(RequestFactory().get("/form/"))
    assert (first[STATUS_HEADER], second[STATUS_HEADER]) == ("miss", "hit")
    assert first.content == second.content
    marker = re.search(rb'name="csrfmiddlewaretoken" value="(fill:[^"]+)"', second.content).group(1).decode()
    assert spec_for(marker) == ("csrf",) and "csrftoken" not in second.cookies
    # Anything else (the thread JSON): a fresh value per response, Django setting the cookie.
    handler = chain(lambda request: view(request, "text/plain"))
    first = handler(RequestFactory().get("/text/"))
    second = handler(RequestFactory().get("/text/"))
    assert (first[STATUS_HEADER], second[STATUS_HEADER]) == ("miss", "hit")
    assert first.content != second.content and b"fill:" not in second.content
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


def test_fill_markers_of_stored_pages_outlive_a_key_rotation_with_the_fallback(settings):
    """Pages already in the cache carry markers signed with the old key; listed in
    ``SPEAKOUT_SECRET_KEY_FALLBACKS``, it keeps them working (docs/production.md)."""
    signed = marker(("csrf",))
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-key-after-rotation-" + "y" * 40
    settings.SECRET_KEY_FALLBACKS = []
    assert spec_for(signed) is None
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert spec_for(signed) == ("csrf",)
