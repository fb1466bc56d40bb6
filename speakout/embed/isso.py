"""Isso's HTTP API over Speakout's data and pipeline, so a site using Isso's own client can
switch its server to Speakout by changing one URL (``data-isso="https://SPEAKOUT/isso"``).

The endpoints, fields and status codes follow Isso's server (isso/views/comments.py, 0.13-0.14):
``GET /`` (list), ``POST /new?uri=`` (201 published, 202 held), ``GET|PUT|DELETE /id/<id>``,
``POST /count``, ``GET /config``, ``POST /preview`` and ``POST /id/<id>/like|dislike``. Output
fields are Isso's whitelist (``FIELDS``); input fields too (``ACCEPT``). Every reply still goes
through ``submit_reply``: the same policy checks, rendering and moderation as the hosted pages.
Isso's client has no form token, so the time trap is the one check left out here.

Differences, on purpose: a thread is keyed by the page path (``uri``), behind the origin's
key prefix; a new thread needs an allow-listed ``Origin`` (Isso instead fetches the page to
read its title; Speakout makes no outgoing request and uses the title the client sends); votes
are not kept (like and dislike answer with zero counts); edits change the text only.

Edit rights work as in Isso: ``POST /new`` sets a signed cookie named after the reply's id on
Speakout's origin (``Set-Cookie``) and repeats it as ``X-Set-Cookie: isso-<id>=...`` for the
client to store on the page, which tells it which replies to show Edit and Delete on. Over
https the cookie is ``SameSite=None; Secure`` like Isso's; over plain http it is ``SameSite=Lax``
(browsers refuse ``None`` without ``Secure``), which still reaches Speakout from any page on
the same site (another port or subdomain). A browser that blocks third-party cookies keeps
a cross-site page's reader from editing, exactly as with Isso's own server.
"""

from __future__ import annotations

import json
from http.cookies import SimpleCookie
from typing import Any

from django.core import signing
from django.http import HttpResponse, JsonResponse
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from speakout.discussion import services
from speakout.discussion.adapter import Dialect, get_adapter
from speakout.discussion.avatars import DEFAULT_KEY
from speakout.discussion.clients import guest_keys
from speakout.discussion.models import DiscussionSettings, Reply, Thread
from speakout.discussion.reading import HELD_STATUSES, approved_counts
from speakout.discussion.rendering import render_markdown

from . import app_settings
from .origins import is_address, page_thread

_SALT = "speakout.embed.isso"
MAX_TEXT = 65535
# ReplyForm's names for Isso's fields. Besides Isso's own, a client may send ``submission_id``
# (a resent reply is stored once) and ``confirm`` (warnings to overrule), as on /api/.
# Isso's ``notification`` asks for mail about replies to one's own comment: our "answers" box.
ISSO_FIELDS = {"body": "text", "name": "author", "notify_answers": "notification"}


def text(message: str, status: int) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def read_json(request):
    """Isso's CSRF rule: writes must not look like a form post (its ``xhr`` decorator)."""
    if request.content_type and not request.content_type.startswith("application/json"):
        return None, text("CSRF", 403)
    try:
        return json.loads(request.body or b"null"), None
    except (ValueError, UnicodeDecodeError):
        return None, text(_("The body is not valid JSON."), 400)


# Identity: one signed cookie per reply, as Isso does -----------------------------------------


def tokens_from_cookies(request) -> dict[int, str]:
    """Guest tokens proven by the request's reply cookies, by reply id."""
    found = {}
    for name, value in request.COOKIES.items():
        if not name.isdigit():
            continue
        try:
            reply_id, token = signing.loads(value, salt=_SALT, max_age=app_settings.ISSO_EDIT_SECONDS)
        except (signing.BadSignature, ValueError, TypeError):
            continue
        if reply_id == int(name) and isinstance(token, str):
            found[reply_id] = token
    return found


def set_edit_cookies(request, response, reply_id: int, token: str) -> None:
    """The reply's edit cookie proving ``token``; without one, a cookie that ends it."""
    value = signing.dumps([reply_id, token], salt=_SALT) if token else ""
    max_age = app_settings.ISSO_EDIT_SECONDS if token else 0
    secure = request.is_secure()
    samesite = "None" if secure else "Lax"
    response.set_cookie(
        str(reply_id), value, max_age=max_age, path="/", secure=secure, httponly=True, samesite=samesite
    )
    # For the client, which reads it from the response and stores it on the page.
    name = f"isso-{reply_id}"
    cookie = SimpleCookie({name: value})
    cookie[name].update({"max-age": max_age, "path": "/", "samesite": samesite})
    if secure:
        cookie[name]["secure"] = True
    response["X-Set-Cookie"] = cookie[name].OutputString()


# Threads and replies ------------------------------------------------------------------------


def thread_key(request, uri: str) -> str:
    entry = getattr(request, "speakout_embed_origin", None)
    return entry.thread_key(uri) if entry else uri[:255]


def author_hash(reply) -> str:
    # Isso's "hash" seeds the identicon: the reply's avatar key, so it links exactly what the
    # avatar links (what the writer proved), never a typed address or name.
    return (reply.avatar_key or DEFAULT_KEY)[:12]


def item(reply: Reply, *, plain: bool = False, parent: int | None = None) -> dict[str, Any]:
    return {
        "id": reply.pk,
        "parent": parent if parent is not None else reply.parent_id,
        "text": reply.body if plain else reply.body_html,
        "author": reply.author_name or None,
        "website": reply.author_website or None,
        "mode": 1 if reply.status == Reply.Status.APPROVED else 2,
        "created": reply.created_at.timestamp(),
        "modified": reply.edited_at.timestamp() if reply.edited_at else None,
        "likes": 0,
        "dislikes": 0,
        "hash": author_hash(reply),
        "notification": 0,
    }


def public_config() -> dict[str, Any]:
    rules = DiscussionSettings.load()
    return {
        "reply-to-self": False,
        "require-email": rules.require_name_email,
        "require-author": rules.require_name_email,
        "reply-notifications": True,
        "gravatar": False,
        "feed": False,
    }


def fetch(request):
    uri = request.GET.get("uri")
    if not uri:
        return text("missing uri query", 400)
    sort = request.GET.get("sort") or "oldest"
    if sort not in ("newest", "oldest", "upvotes"):
        return text("Invalid sort option. Must be one of: 'newest', 'oldest', 'upvotes'", 400)
    numbers: dict[str, int | None] = {}
    for name in ("limit", "offset", "parent", "nested_limit"):
        try:
            numbers[name] = int(request.GET[name]) if request.GET.get(name) else None
        except ValueError:
            return text(f"{name} should be integer", 400)
    limit, parent, nested_limit = numbers["limit"], numbers["parent"], numbers["nested_limit"]
    offset = numbers["offset"] or 0
    if offset < 0:
        return text("offset should not be negative", 400)
    try:
        after = float(request.GET.get("after") or 0)
    except ValueError:
        return text("after should be a number", 400)
    plain = request.GET.get("plain", "0") != "0"

    thread = (
        Thread.objects.filter(key=thread_key(request, uri), is_public=True).exclude(status=Thread.Status.HIDDEN).first()
    )
    rows: list[Reply] = []
    if thread is not None:
        keys = [key for token in tokens_from_cookies(request).values() for key in guest_keys(token)]
        visible = Reply.objects.filter(thread=thread, status=Reply.Status.APPROVED)
        if keys:
            # Guests' held replies only: an account's reply is not the browser's.
            held = Reply.objects.filter(thread=thread, status__in=HELD_STATUSES, user_id__isnull=True)
            visible = visible | held.filter(guest_key__in=keys)
        rows = list(visible.order_by("path"))
    if after:
        rows = [reply for reply in rows if reply.created_at.timestamp() > after]

    # Isso shows two levels: top-level replies, each with all replies below it, flat.
    by_path = {reply.path: reply for reply in rows}
    roots: list[Reply] = []
    below: dict[int, list[Reply]] = {}
    for reply in rows:
        root = by_path.get(reply.path[:9])
        if root is None or root is reply:
            roots.append(reply)
            below[reply.pk] = []
        else:
            below[root.pk].append(reply)
    newest = sort in ("newest", "upvotes")
    roots.sort(key=lambda r: r.created_at, reverse=newest)
    for children in below.values():
        children.sort(key=lambda r: r.created_at, reverse=newest)

    def window(items: list[Reply], size: int | None, start: int) -> list[Reply]:
        return items[start:] if size is None else items[start : start + size]

    config = public_config()
    if parent is not None:
        children = below.get(parent, [])
        shown = window(children, limit, offset)
        return JsonResponse(
            {
                "id": parent,
                "total_replies": len(children),
                "hidden_replies": len(children) - len(shown) - offset,
                "replies": [item(r, plain=plain, parent=parent) for r in shown],
                "config": config,
            }
        )
    shown_roots = window(roots, limit, offset) if limit != 0 else []
    replies = []
    for root in shown_roots:
        children = below[root.pk]
        nested = window(children, nested_limit, 0) if nested_limit != 0 else []
        entry = item(root, plain=plain, parent=None)
        entry["total_replies"] = len(children)
        entry["hidden_replies"] = len(children) - len(nested)
        entry["replies"] = [item(r, plain=plain, parent=root.pk) for r in nested]
        replies.append(entry)
    return JsonResponse(
        {
            "id": None,
            "total_replies": len(rows),
            "hidden_replies": len(roots) - len(shown_roots) - offset,
            "replies": replies,
            "config": config,
        }
    )


def _verify(data) -> str:
    """Isso's own checks of a new reply, with its messages."""
    if not isinstance(data, dict):
        return "JSON must be an object"
    if data.get("text") is None:
        return "text is missing"
    if not isinstance(data.get("parent"), (int, type(None))) or isinstance(data.get("parent"), bool):
        return "parent must be an integer or null"
    for key in ("text", "author", "website", "email"):
        if not isinstance(data.get(key), (str, type(None))):
            return f"{key} must be a string or null"
    if len(data["text"].rstrip()) < 3:
        return "text is too short (minimum length: 3)"
    if len(data["text"]) > MAX_TEXT:
        return "text is too long (maximum length: 65535)"
    return ""


def new(request):
    uri = request.GET.get("uri")
    if not uri:
        return text("missing uri query", 400)
    if not uri.startswith("/") or uri.startswith("//") or not is_address(uri):
        return text(_("The uri must be a path on the page's site, such as /posts/hello/."), 400)
    data, error = read_json(request)
    if error:
        return error
    problem = _verify(data)
    if problem:
        return text(problem, 400)
    key = thread_key(request, uri)
    thread = Thread.objects.filter(key=key).first()
    if thread is None:
        entry = getattr(request, "speakout_embed_origin", None)
        if entry is None:
            return text(_("Only allowed sites can start a discussion here."), 403)
        thread = page_thread(entry, key, entry.origin + uri)
    elif not thread.is_public or thread.status == Thread.Status.HIDDEN:
        return text("Not Found", 404)
    adapter = get_adapter()
    # Isso's client keeps no guest cookie: each reply gets a token of its own, in its edit cookie.
    # The edit cookies still held prove the writer's earlier replies (the duplicate check's).
    author, token = adapter.author(request, create_guest_token=True)
    author.earlier_guest_tokens = tuple(tokens_from_cookies(request).values())
    data = adapter.form_data(key, data, renamed=ISSO_FIELDS)
    result = adapter.submit(thread, data, author, check_form_token=False)
    status = adapter.status(result, Dialect.ISSO)
    if not result.ok:
        response = text(adapter.plain_error(result), status)
        if result.confirm:
            # Isso's client cannot show a "post anyway" box; a client that can sends the codes back.
            response["X-Speakout-Confirm"] = ",".join(result.confirm)
        return response
    reply = result.reply
    response = JsonResponse(item(reply), status=status)
    if services.is_author(reply, author):
        set_edit_cookies(request, response, reply.pk, token)
    return response


def _own(request, reply_id: int):
    """The reply and its author, if the request's cookie for it is genuine; else a response."""
    reply = (
        Reply.objects.select_related("thread")
        .filter(pk=reply_id, thread__is_public=True)
        .exclude(status=Reply.Status.TRASH)
        .first()
    )
    if reply is None:
        return None, None, text("Not Found", 404)
    token = tokens_from_cookies(request).get(reply_id)
    author, _new = get_adapter().author(request, guest_token=token or "")
    if not token or not services.can_change(reply, author):
        return None, None, text("Forbidden", 403)
    return reply, author, None


def comment(request, reply_id: int):
    if request.method == "GET":
        reply, _author, error = _own(request, reply_id)
        if error:
            return error
        return JsonResponse(item(reply, plain=request.GET.get("plain", "0") != "0"))
    if request.method == "PUT":
        data, error = read_json(request)
        if error:
            return error
        reply, author, error = _own(request, reply_id)
        if error:
            return error
        problem = _verify({**data, "parent": None}) if isinstance(data, dict) else "JSON must be an object"
        if problem:
            return text(problem, 400)
        result = services.edit_reply(reply, data["text"], author)
        if not result.ok:
            return text(get_adapter().plain_error(result), 403 if result.code == "forbidden" else 400)
        response = JsonResponse(item(result.reply))
        set_edit_cookies(request, response, reply_id, tokens_from_cookies(request)[reply_id])
        return response
    # DELETE, the one method left (see ``urlpatterns``)
    if request.content_type and not request.content_type.startswith("application/json"):
        return text("CSRF", 403)
    reply, author, error = _own(request, reply_id)
    if error:
        return error
    services.delete_own_reply(reply, author)
    response = JsonResponse(None, safe=False)
    set_edit_cookies(request, response, reply_id, "")
    return response


def counts(request):
    data, error = read_json(request)
    if error:
        return error
    if not isinstance(data, list) or not all(isinstance(uri, str) for uri in data):
        return text("JSON must be a list of URLs", 400)
    keys = {uri: thread_key(request, uri) for uri in data}
    found = approved_counts(list(keys.values()))
    return JsonResponse([found[keys[uri]] for uri in data], safe=False)


def config(request):
    return JsonResponse({"config": public_config()})


def preview(request):
    data, error = read_json(request)
    if error:
        return error
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        return text("text is missing", 400)
    return JsonResponse({"text": render_markdown(data["text"])})


def vote(request, reply_id: int):
    # Answers as for a missing id unless the reply is readable, so it tells nothing of private threads.
    readable = Reply.objects.filter(pk=reply_id, status=Reply.Status.APPROVED, thread__is_public=True).exclude(
        thread__status=Thread.Status.HIDDEN
    )
    if not readable.exists():
        return text("Not Found", 404)
    return JsonResponse({"likes": 0, "dislikes": 0})


def _methods(view, *allowed: str):
    @csrf_exempt
    def wrapped(request, *args, **kwargs):
        if request.method not in allowed:
            response = text("Method Not Allowed", 405)
            response["Allow"] = ", ".join(allowed)
            return response
        return view(request, *args, **kwargs)

    return wrapped


def urlpatterns(prefix: str) -> list:
    return [
        path(f"{prefix}/", _methods(fetch, "GET", "HEAD"), name="isso_fetch"),
        path(f"{prefix}/new", _methods(new, "POST"), name="isso_new"),
        path(f"{prefix}/count", _methods(counts, "POST"), name="isso_count"),
        path(f"{prefix}/config", _methods(config, "GET", "HEAD"), name="isso_config"),
        path(f"{prefix}/preview", _methods(preview, "POST"), name="isso_preview"),
        path(f"{prefix}/id/<int:reply_id>", _methods(comment, "GET", "PUT", "DELETE"), name="isso_comment"),
        path(f"{prefix}/id/<int:reply_id>/like", _methods(vote, "POST"), name="isso_like"),
        path(f"{prefix}/id/<int:reply_id>/dislike", _methods(vote, "POST"), name="isso_dislike"),
    ]
