"""The widget's files, the sign-in window, and the hosted thread page for readers without
JavaScript (the widget's fallback link, "Read and reply on SPEAKOUT", leads there)."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.http import Http404, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET, require_POST
from django.views.static import serve

from speakout.discussion import views as discussion_views
from speakout.discussion.clients import read_guest_token
from speakout.discussion.forms import parse_id
from speakout.discussion.html import render_reply_list
from speakout.discussion.models import DiscussionSettings, Reply
from speakout.discussion.reading import load_thread_page

from .middleware import SIGNIN_COOKIE
from .origins import Origin, allowed, origin_of, page_thread, visible_thread
from .tokens import sign_user_token

STATIC_DIR = Path(__file__).resolve().parent / "static" / "embed"
SIGNIN_WINDOW_SECONDS = 600


def _static(request, name: str):
    # A stable address (the snippet sites paste never changes), revalidated after a few minutes.
    response = serve(request, name, document_root=STATIC_DIR)
    patch_cache_control(response, public=True, max_age=300)
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@require_GET
def embed_js(request):
    return _static(request, "embed.js")


@require_GET
def embed_css(request):
    return _static(request, "embed.css")


@require_GET
def signin(request):
    """The small sign-in window. Signed in: hand a short-lived token to the opener, on the
    allowed origin only. Not yet: on to the login page, which comes back here."""
    entry = allowed(request.GET.get("origin", ""))
    if entry is None:
        return render(request, "embed/signin_refused.html", status=400)
    if not request.user.is_authenticated:
        next_url = request.get_full_path()
        response = HttpResponseRedirect(f"{settings.LOGIN_URL}?{urlencode({'next': next_url})}")
        response.set_cookie(
            SIGNIN_COOKIE,
            str(int(time.time())),
            max_age=SIGNIN_WINDOW_SECONDS,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure(),
        )
        return response
    user = request.user
    name = user.get_full_name() if hasattr(user, "get_full_name") else ""
    context = {
        "origin": entry.origin,
        "token": sign_user_token(user, entry.origin),
        "name": name or user.get_username(),
    }
    response = render(request, "embed/signin.html", context)
    response["Cross-Origin-Opener-Policy"] = "unsafe-none"  # the opener is on another origin
    response["Cache-Control"] = "no-store"
    response.delete_cookie(SIGNIN_COOKIE)
    return response


def _page_thread(request) -> tuple[str, str, Origin]:
    """(thread key, page URL, allow-list entry) from ?url= (and an optional ?key= the page chose)."""
    url = request.GET.get("url", "")
    entry = allowed(origin_of(url))
    if entry is None:
        raise Http404
    key = request.GET.get("key") or urlsplit(url).path or "/"
    return entry.thread_key(key), url, entry


def _hosted_url(url: str, key: str) -> str:
    query = {"url": url}
    if key:
        query["key"] = key
    return f"{reverse('embed:thread')}?{urlencode(query)}"


@require_GET
def thread_page(request):
    """A page's thread on Speakout itself: the replies and the normal reply form."""
    key, url, entry = _page_thread(request)
    rules = DiscussionSettings.load()
    thread = visible_thread(key)
    shown = thread or page_thread(entry, key, url)
    listing_html, count, page = "", 0, None
    user = request.user if request.user.is_authenticated else None
    if thread is not None:
        page = load_thread_page(thread, rules=rules, user=user, guest_token=read_guest_token(request))
        author, _new = discussion_views.author_from(request)
        from speakout.discussion import services

        for node in page.nodes:
            node.can_change = node.own and services.can_change(node.reply, author, rules)
        listing_html = render_reply_list(
            page.nodes, page.closing_tags, accepts_replies=thread.accepts_replies(rules.auto_close_days)
        )
        count = thread.approved_count
    reply_to = None
    reply_to_id = parse_id(request.GET.get("replyto"))
    if thread is not None and reply_to_id is not None:
        reply_to = Reply.objects.filter(pk=reply_to_id, thread=thread, status=Reply.Status.APPROVED).first()
    context = discussion_views.reply_form_context(request, shown, rules=rules, reply_to=reply_to)
    if thread is None:
        context["accepts_replies"] = True
    context.update(
        {
            # The page travels in the form's address, so the discussion's form template serves as is.
            "post_url": reverse("embed:thread_post") + "?" + urlencode({"url": url, "key": request.GET.get("key", "")}),
            "page_url": url,
            "listing_html": listing_html,
            "count": count,
            "has_replies": bool(listing_html),
        }
    )
    return render(request, "embed/thread_page.html", context)


@require_POST
def thread_post(request):
    """The hosted page's reply form: start the thread if this is its first reply, then the
    discussion's own form view does the rest; its redirect is turned back to the hosted page."""
    key, url, entry = _page_thread(request)
    if request.POST.get("thread") != key:
        return HttpResponseBadRequest()
    thread = visible_thread(key) or page_thread(entry, key, url)
    response = discussion_views.post_to_thread(request, thread)
    if response.status_code == 303:
        fragment = urlsplit(response["Location"]).fragment
        response["Location"] = _hosted_url(url, request.GET.get("key", "")) + (f"#{fragment}" if fragment else "")
    return response
