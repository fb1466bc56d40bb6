"""The discussion's JSON API (django-ninja), mounted at ``/api/``.

The OpenAPI schema is served at ``/api/openapi.json`` and browsable at ``/api/docs``.

It is the second front end of DESIGN.md's one pipeline: every endpoint calls the same
``services`` and ``reading`` functions as the HTML views, so outcomes, messages and rules agree.

Identity and CSRF. The API is meant for the site's own script and for the embed widget on other
origins, which calls it with credentials off. So the API reads **no cookie and no session**:
everyone is a guest, known only by the signed guest token the API hands out (``guest_token`` in
a submission's response) and the client sends back in the ``X-Speakout-Guest`` header. Nothing
a browser attaches on its own (cookies, HTTP auth) grants anything here, which is why the
endpoints need no CSRF token: ninja's views are CSRF-exempt and only its cookie-based auth
classes check CSRF, and this API has no auth class. Do not add session authentication to
writes without enforcing CSRF for those requests (ninja's ``SessionAuth`` does).
Signed-in readers therefore post through the API as guests; the HTML form keeps their account.

Input. The body must be UTF-8 JSON. Invalid UTF-8, invalid JSON, and strings holding lone
surrogates (``"\\ud800"`` escapes, which are not text and cannot be stored) are refused with a
400 that says which, never silently repaired. Output fields are whitelisted in ``api_schemas``.

Errors. Every 400, 403, 404 and 429 has one shape, ``ErrorOut``:
``{"outcome": "rejected", "code": ..., "errors": {field: [messages]}}``.
"""

from __future__ import annotations

import json
from typing import Any, Literal, NoReturn, cast

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import RequestDataTooBig
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from ninja import NinjaAPI, Status
from ninja.errors import HttpError, ValidationError
from ninja.params.functions import Header, Query
from ninja.parser import Parser

from speakout.net import sharedreads

from . import reading, services
from .adapter import Dialect, error_body, get_adapter
from .api_schemas import (
    MAX_ID,
    DeletedOut,
    EditIn,
    EditOut,
    ErrorOut,
    ReplyIn,
    ReportedOut,
    ReportIn,
    SubmissionOut,
    ThreadOut,
)
from .avatars import DEFAULT_KEY
from .clients import client_hash, read_guest_token, sign_guest_token
from .forms import FlagForm, issue_form_token
from .html import avatar_url_pattern
from .models import DiscussionSettings, Reply, Thread
from .reading import LISTING_CACHE_SECONDS, ReplyNode, load_thread_page, shows_own_replies

GUEST_HEADER = "X-Speakout-Guest"
MAX_COUNT_KEYS = 100

ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 429: ErrorOut}


# Errors ---------------------------------------------------------------------------------------


class ApiError(Exception):
    """Raise to answer with the error object."""

    def __init__(
        self,
        status: int,
        code: str,
        errors: dict[str, list[str]],
        form_token: str = "",
        confirm: dict[str, str] | None = None,
    ):
        super().__init__(code)
        self.status, self.code, self.errors, self.form_token = status, code, errors, form_token
        self.confirm = confirm or {}

    @classmethod
    def refused(cls, result: services.SubmissionResult, form_token: str = "") -> ApiError:
        """The error answering a refused submission, as every JSON front end gives it."""
        status = get_adapter().status(result, Dialect.JSON)
        return cls(status, result.code or "invalid", result.errors, form_token=form_token, confirm=result.confirm)


class BodyError(ValueError):
    """The request body is not UTF-8 JSON text."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def general(message: str) -> dict[str, list[str]]:
    return {"__all__": [message]}


# Parsing --------------------------------------------------------------------------------------


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(_("%(name)s is not a JSON number.") % {"name": name})


def _has_lone_surrogate(data: Any) -> bool:
    # Iterative, so a deeply nested document cannot exhaust the stack here.
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class StrictJSONParser(Parser):
    """JSON that is text: strict UTF-8, no NaN or Infinity, no lone surrogates."""

    def parse_body(self, request: HttpRequest) -> Any:
        try:
            text = request.body.decode("utf-8")
        except UnicodeDecodeError as error:
            raise BodyError(
                "invalid_utf8",
                _("The body is not valid UTF-8 (bad byte at position %(position)d).") % {"position": error.start},
            ) from error
        try:
            data = json.loads(text, parse_constant=_reject_constant)
        except json.JSONDecodeError as error:
            raise BodyError(
                "invalid_json",
                _("The body is not valid JSON: %(problem)s (line %(line)d, column %(col)d).")
                % {"problem": error.msg, "line": error.lineno, "col": error.colno},
            ) from error
        except (ValueError, RecursionError) as error:
            raise BodyError(
                "invalid_json",
                _("The body is not valid JSON: %(problem)s")
                % {"problem": error if isinstance(error, ValueError) else _("nested too deeply.")},
            ) from error
        if _has_lone_surrogate(data):
            raise BodyError(
                "invalid_characters",
                _(
                    "The request contains a lone surrogate (an escape from \\ud800 to \\udfff "
                    "without its pair), which is not text. Nothing was changed or stored."
                ),
            )
        return data


# The API --------------------------------------------------------------------------------------


api = NinjaAPI(
    title="Speakout discussion API",
    version="1",
    description=(
        "Threads, replies and reports. No cookies or sessions: a guest is known by the signed "
        "token returned as `guest_token` and sent back in the `X-Speakout-Guest` header."
    ),
    urls_namespace="speakout_api",
    parser=StrictJSONParser(),
)


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return api.create_response(
        request, error_body(exc.code, exc.errors, exc.form_token, exc.confirm), status=exc.status
    )


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, error_body("not_found", general(_("Not found."))), status=404)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # ninja wraps whatever the parser raised; ours says exactly what is wrong with the body.
    cause = exc.__cause__
    if isinstance(cause, BodyError):
        return api.create_response(request, error_body(cause.code, general(cause.message)), status=400)
    code = "rate_limit" if exc.status_code == 429 else "bad_request"
    return api.create_response(request, error_body(code, general(str(exc))), status=exc.status_code)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        # loc is e.g. ("body", "payload", "parent") or ("query", "page"): name the field.
        loc = [part for part in error.get("loc", ()) if isinstance(part, str)]
        if loc == ["body", "payload"] and error.get("type") == "missing":
            message = _("The body is empty: send the fields as a JSON object.")
            body = error_body("invalid_json", general(message))
            return api.create_response(request, body, status=400)
        field = loc[-1] if len(loc) > 1 and loc[-1] != "payload" else "__all__"
        errors.setdefault(field, []).append(str(error.get("msg", _("Invalid value."))))
    return api.create_response(request, error_body("invalid", errors), status=400)


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    message = _("The request is too large.")
    return api.create_response(request, error_body("too_large", general(message)), status=400)


# Identity and serialisation ---------------------------------------------------------------------


class _HeaderOnly:
    """What ``read_guest_token`` looks at, with the header and without the cookie (see above)."""

    COOKIES: dict[str, str] = {}

    def __init__(self, value: str):
        self.headers = {GUEST_HEADER: value}


def author_for(
    request: HttpRequest, guest_header: str, *, create_guest_token: bool = False
) -> tuple[services.Author, str]:
    """The request's author (always a guest here) and a new guest token if one had to be made."""
    token = read_guest_token(_HeaderOnly(guest_header)) if guest_header else ""
    return get_adapter().author(request, guest_token=token, create_guest_token=create_guest_token)


_PUBLIC_THREAD: dict[str, tuple[str, list[Any]]] = {}
_THREAD_ATTNAMES = [field.attname for field in Thread._meta.concrete_fields]


def _public_thread_statement() -> tuple[str, list[Any]]:
    """The look-up's statement, and for each of its columns (the model's fields, in order) the
    field and the converters Django's compiler would apply to it."""
    # Building this look-up through the ORM, or reading its row through Thread.objects.raw, cost
    # several times running it, on every reply post.
    vendor = connection.vendor
    if vendor not in _PUBLIC_THREAD:
        quote = connection.ops.quote_name
        fields = list(Thread._meta.concrete_fields)
        columns = []
        for field in fields:
            column = field.get_col(Thread._meta.db_table)
            converters = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            columns.append((field, column, converters))
        key, public, status = (quote(name) for name in ("key", "is_public", "status"))  # the fields' own columns
        names = ", ".join(quote(str(field.column)) for field in fields)
        _PUBLIC_THREAD[vendor] = (
            f"SELECT {names} FROM {quote(Thread._meta.db_table)} WHERE {key} = %s AND {public} = %s"  # nosec B608
            f" AND {status} <> %s ORDER BY {quote(str(Thread._meta.pk.column))} LIMIT 1",
            columns,
        )
    return _PUBLIC_THREAD[vendor]


def public_thread(key: str) -> Thread:
    """A thread whose replies may appear in public; any other is simply not found."""
    statement, columns = _public_thread_statement()
    with connection.cursor() as cursor:
        cursor.execute(statement, [key, True, Thread.Status.HIDDEN.value])
        row = cursor.fetchone()
    if row is None:
        raise Http404
    values = []
    for value, (_field, column, converters) in zip(row, columns, strict=True):
        for converter in converters:
            value = converter(value, column, connection)
        values.append(value)
    return Thread.from_db(connection.alias, _THREAD_ATTNAMES, values)


def reply_data(
    reply: Reply,
    *,
    own: bool,
    can_change: bool,
    in_reply_to: str = "",
    avatars: str = "",
) -> dict[str, Any]:
    # The whitelist: exactly ReplyOut's fields, copied one by one.
    avatars = avatars or avatar_url_pattern()
    return {
        "id": reply.pk,
        "parent": reply.parent_id,
        "author_name": reply.author_name,
        "author_website": reply.author_website,
        "avatar_url": getattr(settings, "BASE_URL", "") + avatars.format(key=reply.avatar_key or DEFAULT_KEY),
        "body_html": reply.body_html,
        "created_at": reply.created_at,
        "edited_at": reply.edited_at,
        "status": Reply.Status.APPROVED.value if reply.status == Reply.Status.APPROVED else services.Outcome.HELD.value,
        "own": own,
        "can_change": can_change,
        "in_reply_to": in_reply_to,
        "children": [],  # nest() fills it
    }


def nest(nodes: list[ReplyNode], author: services.Author, rules: DiscussionSettings) -> list[dict[str, Any]]:
    """The flat reading-order list as a tree, following each node's display depth (which
    ``load_thread_page`` keeps within one step of the previous node's)."""
    roots: list[dict[str, Any]] = []
    stack: list[dict[str, Any]] = []  # stack[d] is the latest reply shown at depth d
    avatars = avatar_url_pattern()  # reversed once, not once per reply
    for node in nodes:
        row = cast(Reply, node.reply)  # a ReplyRow holds every field these read
        item = reply_data(
            row,
            own=node.own,
            can_change=node.own and services.can_change(row, author, rules),
            in_reply_to=node.in_reply_to,
            avatars=avatars,
        )
        depth = min(node.display_depth, len(stack))
        del stack[depth:]
        (stack[-1]["children"] if stack else roots).append(item)
        stack.append(item)
    return roots


def visible_reply(reply_id: int, author: services.Author) -> Reply:
    """A reply the reader may see (see ``reading.visible_reply``); any other is not found."""
    reply = reading.visible_reply(reply_id, user=author.user, guest_token=author.guest_token)
    if reply is None:
        raise Http404
    return reply


def forbidden() -> ApiError:
    return ApiError(403, "forbidden", general(_("This reply can no longer be changed.")))


GuestHeader = Header(default="", alias=GUEST_HEADER, description="The signed guest token a submission returned.")

CountKeys = Query(default=[], description="A thread key; repeat for more threads.")


# Endpoints ------------------------------------------------------------------------------------


def replies_json(
    thread: Thread, rules: DiscussionSettings, *, page: int, newest_first: bool, author: services.Author
) -> tuple[str, int, int]:
    """One page of the thread's replies as JSON text, with the page number and count. Readers
    with no reply of their own on show get the same answer as anonymous ones, so it is kept
    under the thread's version (which every visible change bumps) and encoded once."""
    key = None
    if not shows_own_replies(thread, guest_token=author.guest_token):
        key = (
            f"speakout:discussion:api-replies:{thread.pk}:{thread.version}:{page}:{newest_first}:"
            f"{rules.max_depth}:{rules.replies_per_page}"
        )
        cached: tuple[str, int, int] | None = cache.get(key)
        if cached is not None:
            return cached
    thread_page = load_thread_page(
        thread, rules=rules, page_number=page, guest_token=author.guest_token, newest_first=newest_first
    )
    result = (_json(nest(thread_page.nodes, author, rules)), thread_page.page_number, thread_page.page_count)
    if key is not None:
        cache.set(key, result, LISTING_CACHE_SECONDS)
    return result


def _json(value: Any) -> str:
    # ninja's encoder is DjangoJSONEncoder plus pydantic types, which these values never hold.
    return json.dumps(value, cls=DjangoJSONEncoder)


# A thread's key may hold "/" (a page's path, the natural key of a site that embeds the discussion
# app alone), so both routes take it with Django's path converter, and the route with a suffix
# comes first: "/threads/a/b/replies" is a post to thread "a/b", not a read of "a/b/replies".
@api.post(
    "/threads/{path:key}/replies",
    response={200: SubmissionOut, 201: SubmissionOut, **ERRORS},
    tags=["replies"],
)
def post_reply(request: HttpRequest, key: str, payload: ReplyIn, guest: str = GuestHeader) -> HttpResponse:
    """Send a reply. 201 when stored (published or held for moderation), 200 when the same
    ``submission_id`` was already stored (the first reply is returned, nothing is added)."""
    thread = public_thread(key)
    adapter = get_adapter()
    with sharedreads.read_together(services.shared_keys()):
        rules = DiscussionSettings.load()
        author, new_token = author_for(request, guest, create_guest_token=True)
        result = adapter.submit(thread, adapter.form_data(thread.key, payload.dict()), author, rules=rules)
    if not result.ok:
        raise ApiError.refused(result, form_token=issue_form_token(thread.key, after_error=True))
    reply = result.stored
    own = services.is_author(reply, author)
    if result.duplicate_of_retry and not (
        reply.thread_id == thread.pk and (own or reply.status == Reply.Status.APPROVED)
    ):
        # The service finds a retry by submission_id alone; show the stored reply only to
        # someone who may see it here (its author, or anyone once it is published here).
        raise ApiError(400, "already_sent", general(_("This reply has already been sent.")))
    deep = reply.parent_id is not None and reply.depth >= max(1, rules.max_depth)
    # SubmissionOut's fields in its order, written directly as get_thread's answer is: the reply
    # is whitelisted by reply_data, and the schema's validation cost more than writing it.
    body = {
        "outcome": result.outcome.value,
        "reply": reply_data(
            reply,
            own=own,
            can_change=own and services.can_change(reply, author, rules),
            in_reply_to=reply.parent.author_name if deep and reply.parent else "",
        ),
        # A retry made without the first answer's token cannot be tied to it; a token made for
        # it would open nothing, so none is handed out.
        "guest_token": sign_guest_token(new_token) if new_token and own else None,
    }
    return HttpResponse(
        _json(body), status=adapter.status(result, Dialect.JSON), content_type="application/json; charset=utf-8"
    )


@api.get("/threads/{path:key}", response={200: ThreadOut, **ERRORS}, tags=["threads"])
def get_thread(
    request: HttpRequest,
    key: str,
    page: int = Query(1, ge=1, le=MAX_ID),
    sort: Literal["oldest", "newest"] | None = None,
    guest: str = GuestHeader,
) -> HttpResponse:
    """One page of a thread's replies, nested, with a fresh form token for a new reply."""
    # Never in the page cache: every answer carries its own form token (the time trap counts
    # from it). Readers without a reply of their own share the rendered reply list (replies_json).
    thread = public_thread(key)
    rules = DiscussionSettings.load()
    author, _new = author_for(request, guest)
    newest_first = rules.newest_first if sort is None else sort == "newest"
    replies, page_number, page_count = replies_json(thread, rules, page=page, newest_first=newest_first, author=author)
    info = {
        "key": thread.key,
        "title": thread.title,
        "url": thread.url,
        "status": thread.status,
        "count": thread.approved_count,
        "accepts_replies": thread.accepts_replies(rules.auto_close_days),
    }
    paging = {
        "number": page_number,
        "count": page_count,
        "per_page": rules.replies_per_page,
        "sort": "newest" if newest_first else "oldest",
    }
    token = issue_form_token(thread.key)
    # ThreadOut's fields in its order, written directly: the replies are whitelisted by
    # reply_data, and validating hundreds of them against the schema on every read costs more
    # than everything else in this view together.
    body = f'{{"thread": {_json(info)}, "page": {_json(paging)}, "replies": {replies}, "form_token": {_json(token)}}}'
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    # Fresh (the form token), and personal for a guest with held replies: never from a shared cache.
    add_never_cache_headers(response)
    patch_vary_headers(response, [GUEST_HEADER])
    return response


def edit_own_reply(reply_id: int, body: str, author: services.Author) -> dict[str, Any]:
    """The answer to an author changing their reply's text (``EditOut``), for every JSON front
    end whatever header names the author: 404 for a reply they may not see, 403 for one they
    may see but not change."""
    reply = visible_reply(reply_id, author)
    rules = DiscussionSettings.load()
    if not services.can_change(reply, author, rules):
        raise forbidden()
    result = services.edit_reply(reply, body, author)
    if not result.ok:
        if result.code == "forbidden":
            raise forbidden()
        raise ApiError(400, result.code or "invalid", result.errors)
    can_still_change = services.can_change(result.stored, author, rules)
    return {
        "outcome": result.outcome,
        "reply": reply_data(result.stored, own=True, can_change=can_still_change),
    }


def delete_own_reply(reply_id: int, author: services.Author) -> dict[str, Any]:
    """The answer to an author deleting their reply (``DeletedOut``), with the same errors as
    ``edit_own_reply``."""
    reply = visible_reply(reply_id, author)
    if not services.delete_own_reply(reply, author):
        raise forbidden()
    return {"outcome": "deleted", "id": reply.pk}


@api.patch("/replies/{reply_id}", response={200: EditOut, **ERRORS}, tags=["replies"])
def edit_reply(request: HttpRequest, reply_id: int, payload: EditIn, guest: str = GuestHeader) -> dict[str, Any]:
    """Change the text of one's own reply, within the edit window."""
    author, _new = author_for(request, guest)
    return edit_own_reply(reply_id, payload.body or "", author)


@api.delete("/replies/{reply_id}", response={200: DeletedOut, **ERRORS}, tags=["replies"])
def delete_reply(request: HttpRequest, reply_id: int, guest: str = GuestHeader) -> dict[str, Any]:
    """Delete one's own reply, within the edit window."""
    author, _new = author_for(request, guest)
    return delete_own_reply(reply_id, author)


@api.post("/replies/{reply_id}/reports", response={201: ReportedOut, **ERRORS}, tags=["replies"])
def report_reply(request: HttpRequest, reply_id: int, payload: ReportIn) -> Status[dict[str, Any]]:
    """Report a published reply to the moderators."""
    reply = services.reportable_replies().filter(pk=reply_id).first()
    if reply is None:
        raise Http404
    form = FlagForm({"reason": payload.reason or "", "note": payload.note or ""})
    if not form.is_valid():
        errors = {name: [str(m) for m in messages] for name, messages in form.errors.items()}
        raise ApiError(400, "invalid", errors)
    cleaned = form.cleaned_data
    try:
        services.flag_reply(reply, cleaned["reason"], cleaned["note"], client_hash(request))
    except services.TooManyReports as error:
        raise ApiError(429, "rate_limit", general(str(error))) from error
    return Status(201, {"outcome": "reported", "id": reply.pk})


@api.get("/counts", response={200: dict[str, int], **ERRORS}, tags=["threads"])
def counts(request: HttpRequest, key: list[str] = CountKeys) -> dict[str, int]:
    """Approved reply counts of many threads at once (``?key=a&key=b``). Threads that are
    unknown, private or hidden count 0."""
    return reading.approved_counts(count_keys(key))


def count_keys(key: list[str]) -> list[str]:
    """The keys a count request names, each once; 400 when there are too many."""
    keys = list(dict.fromkeys(key))
    if len(keys) > MAX_COUNT_KEYS:
        message = ngettext(
            "Ask for at most %(count)d thread at once.", "Ask for at most %(count)d threads at once.", MAX_COUNT_KEYS
        ) % {"count": MAX_COUNT_KEYS}
        raise ApiError(400, "too_many_keys", {"key": [message]})
    return keys
