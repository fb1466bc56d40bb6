"""The page cache's safety nets, driven through Django's own CSRF middleware and a real view."""

from __future__ import annotations

import re

from django.core.checks import run_checks
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.template import engines
from django.test import RequestFactory, override_settings

from speakout.discussion.forms import new_submission_id
from speakout.net.crossorigin import CrossOriginProtectionMiddleware
from speakout.pagecache.capture import share
from speakout.pagecache.holes import marker, per_request, spec_for
from speakout.pagecache.middleware import STATUS_HEADER, PageCacheMiddleware


def chain(view):
    return CrossOriginProtectionMiddleware(PageCacheMiddleware(view))


def test_a_page_that_reads_a_real_csrf_token_is_never_stored(db):
    def view(request):
        share(request)
        return HttpResponse(f"token {get_token(request)}")

    handler = chain(view)
    first = handler(RequestFactory().get("/somewhere/"))
    second = handler(RequestFactory().get("/somewhere/"))
    assert STATUS_HEADER not in first and STATUS_HEADER not in second
    assert first.content != second.content


def test_stored_pages_carry_no_csrf_token_and_per_request_values_as_fill_markers(db):
    template = engines["django"].from_string(
        "<form>{% csrf_token %}<input value='{{ token }}'></form> speakout-hole-0000000000000000-0-"
    )

    def view(request, content_type):
        share(request)
        token = per_request(request, new_submission_id)
        return HttpResponse(template.render({"token": token}, request), content_type=content_type)

    # HTML: the same bytes for everyone, no CSRF token, the value a signed marker; no cookie.
    handler = chain(lambda request: view(request, "text/html; charset=utf-8"))
    first = handler(RequestFactory().get("/form/"))
    second = handler(RequestFactory().get("/form/"))
    assert (first[STATUS_HEADER], second[STATUS_HEADER]) == ("miss", "hit")
    assert first.content == second.content and b"csrfmiddlewaretoken" not in second.content
    marker = re.search(rb"value='(fill:[^']+)'", second.content).group(1).decode()
    assert spec_for(marker)[1] == "speakout.discussion.forms.new_submission_id" and not second.cookies
    # Text that merely looks like a placeholder (a reader could type it) stays as it was.
    assert b"speakout-hole-0000000000000000-0-" in second.content
    # Anything else has no script to fill markers in: never stored, a fresh value per response.
    handler = chain(lambda request: view(request, "text/plain"))
    first = handler(RequestFactory().get("/text/"))
    second = handler(RequestFactory().get("/text/"))
    assert STATUS_HEADER not in first and STATUS_HEADER not in second
    assert first.content != second.content and b"fill:" not in second.content
    assert b"speakout-hole-0000000000000000-0-" in second.content


def test_views_that_do_not_share_are_not_stored(db):
    handler = chain(lambda request: HttpResponse("personal"))
    assert STATUS_HEADER not in handler(RequestFactory().get("/mine/"))
    assert STATUS_HEADER not in handler(RequestFactory().get("/mine/"))


def test_the_context_processor_that_keeps_tokens_out_must_be_on(settings):
    templates = [{**engine, "OPTIONS": {**engine["OPTIONS"]}} for engine in settings.TEMPLATES]
    for engine in templates:
        engine["OPTIONS"]["context_processors"] = [
            p for p in engine["OPTIONS"].get("context_processors", []) if p != "speakout.pagecache.holes.csrf"
        ]
    with override_settings(TEMPLATES=templates):
        assert "speakout_pagecache.E002" in [error.id for error in run_checks()]
    assert "speakout_pagecache.E002" not in [error.id for error in run_checks()]


def test_fill_markers_of_stored_pages_outlive_a_key_rotation_with_the_fallback(settings):
    """Pages already in the cache carry markers signed with the old key; listed in
    ``SPEAKOUT_SECRET_KEY_FALLBACKS``, it keeps them working (docs/production.md)."""
    spec = ("call", "speakout.discussion.forms.new_submission_id", ())
    signed = marker(spec)
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-key-after-rotation-" + "y" * 40
    settings.SECRET_KEY_FALLBACKS = []
    assert spec_for(signed) is None
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert spec_for(signed) == spec
