"""The widget's endpoints (django-ninja), mounted at ``/embed/api/``.

They add to Speakout's discussion API (``/api/``, which the widget also uses to report) what
a page on another site needs: threads addressed by the page's path, so a thread can be read
before it exists and is created by its first reply (from allow-listed origins only, with the
page's canonical URL and title); the signed-in reader's token from the sign-in window
(``X-Speakout-User``), also for editing and deleting the reader's own replies (``/api/`` reads
the guest header only); counts for many links at once; and the widget's strings.

Like ``/api/``, nothing here reads a cookie or the session: identity travels in headers, so
CORS runs with credentials off and no CSRF token is needed (see speakout.discussion.api).
"""

from __future__ import annotations

from typing import Any, Literal

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import translation
from django.utils.cache import add_never_cache_headers, patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from ninja import NinjaAPI, Status
from ninja.errors import HttpError, ValidationError
from ninja.params.functions import Header, Query
from pydantic import Field

from speakout.discussion import api as discussion_api
from speakout.discussion import services
from speakout.discussion.adapter import Dialect, get_adapter
from speakout.discussion.api import GUEST_HEADER, ApiError, count_keys, general
from speakout.discussion.api_schemas import MAX_ID, DeletedOut, EditIn, EditOut, ReplyIn
from speakout.discussion.clients import sign_guest_token
from speakout.discussion.forms import issue_form_token
from speakout.discussion.models import DiscussionSettings, Flag, Reply, Thread
from speakout.discussion.reading import approved_counts, load_thread_page

from .origins import Origin, origin_of, page_thread, visible_thread
from .tokens import USER_HEADER, read_user_token

api = NinjaAPI(
    title="Speakout embed API",
    version="1",
    description="What the embeddable widget needs besides the discussion API at /api/.",
    # Nested in the embed app's namespace (speakout/embed/urls.py): ninja reverses its own names
    # through this; with the bare name its OpenAPI spec and docs page cannot be reversed.
    urls_namespace="embed:speakout_embed_api",
    parser=discussion_api.StrictJSONParser(),
)

# The same error shapes as /api/.
api.exception_handler(ApiError)(discussion_api._api_error)
api.exception_handler(Http404)(discussion_api._not_found)
api.exception_handler(HttpError)(discussion_api._http_error)
api.exception_handler(ValidationError)(discussion_api._validation_error)

ERRORS = discussion_api.ERRORS
CountKeys = Query(..., description="A page path (or key); repeat for more pages.")
# No NUL: PostgreSQL can neither store nor compare it.
KeyParam = Query(
    ..., min_length=1, max_length=255, pattern=r"^[^\x00]*$", description="The page's path, or the key it chose."
)


class EmbedReplyIn(ReplyIn):
    url: str | None = Field(default=None, max_length=1000, description="The page's canonical URL.")
    title: str | None = Field(default=None, max_length=500, description="The page's title.")


def embed_origin(request: HttpRequest) -> Origin | None:
    """The allow-list entry of the calling page (set by EmbedMiddleware), None on Speakout's own."""
    return getattr(request, "speakout_embed_origin", None)


def thread_key(request: HttpRequest, key: str) -> str:
    entry = embed_origin(request)
    return entry.thread_key(key) if entry else key


def author_for(
    request: HttpRequest, guest: str, user_token: str, *, create_guest_token: bool = False
) -> tuple[services.Author, str]:
    author, new_token = discussion_api.author_for(request, guest, create_guest_token=create_guest_token)
    entry = embed_origin(request)
    author.user = read_user_token(user_token, entry.origin if entry else None)
    return author, new_token


def with_sources(replies: list[dict[str, Any]]) -> None:
    """Add the text as written to the replies the reader may still edit (the edit box needs it)."""
    stack, editable = list(replies), {}
    while stack:
        item = stack.pop()
        stack.extend(item["children"])
        if item["can_change"]:
            editable[item["id"]] = item
    for pk, body in Reply.objects.filter(pk__in=list(editable)).values_list("pk", "body"):
        editable[pk]["body"] = body


def viewer(author: services.Author) -> dict[str, Any]:
    # ``wishes_by_default``: the boxes about the writer's own reply start ticked (a verified address).
    if author.is_signed_in:
        return {
            "signed_in": True,
            "name": services.display_name_for(author, ""),
            "wishes_by_default": services.wishes_by_default(author),
        }
    return {"signed_in": False, "name": "", "wishes_by_default": False}


GuestHeader = Header(default="", alias=GUEST_HEADER)
UserHeader = Header(default="", alias=USER_HEADER, description="A sign-in token from the sign-in window.")


@api.get("/thread", response={200: dict, **ERRORS}, tags=["threads"])
def get_thread(
    request: HttpRequest,
    response: HttpResponse,
    key: str = KeyParam,
    page: int = Query(1, ge=1, le=MAX_ID),
    sort: Literal["oldest", "newest"] | None = None,
    guest: str = GuestHeader,
    user_token: str = UserHeader,
) -> dict[str, Any]:
    """A page's thread: replies, count, a form token, and who the reader is. A thread that does
    not exist yet reads as empty; its first reply creates it."""
    full_key = thread_key(request, key)
    thread = visible_thread(full_key)
    rules = DiscussionSettings.load()
    author, _new = author_for(request, guest, user_token)
    newest_first = rules.newest_first if sort is None else sort == "newest"
    add_never_cache_headers(response)
    patch_vary_headers(response, [GUEST_HEADER, USER_HEADER])
    replies: list[dict[str, Any]] = []
    page_number = page_count = 1
    accepts = embed_origin(request) is not None  # a page's first reply creates its thread
    if thread is not None:
        thread_page = load_thread_page(
            thread,
            rules=rules,
            page_number=page,
            user=author.user if author.is_signed_in else None,
            guest_token=author.guest_token,
            newest_first=newest_first,
        )
        replies = discussion_api.nest(thread_page.nodes, author, rules)
        with_sources(replies)
        page_number, page_count = thread_page.page_number, thread_page.page_count
        accepts = thread.accepts_replies(rules.auto_close_days)
    return {
        "thread": {
            "key": full_key,
            "title": thread.title if thread else "",
            "url": thread.url if thread else "",
            "count": thread.approved_count if thread else 0,
            "accepts_replies": accepts,
        },
        "page": {
            "number": page_number,
            "count": page_count,
            "per_page": rules.replies_per_page,
            "sort": "newest" if newest_first else "oldest",
        },
        "replies": replies,
        "form_token": issue_form_token(full_key),
        "viewer": viewer(author),
        "require_name_email": rules.require_name_email,
        "hosted_url": request.build_absolute_uri(reverse("embed:thread")),
    }


@api.post("/replies", response={200: dict, 201: dict, **ERRORS}, tags=["replies"])
def post_reply(
    request: HttpRequest,
    payload: EmbedReplyIn,
    key: str = KeyParam,
    guest: str = GuestHeader,
    user_token: str = UserHeader,
) -> Status[dict[str, Any]]:
    """Send a reply; the page's first reply creates its thread (allow-listed origins only)."""
    full_key = thread_key(request, key)
    thread = visible_thread(full_key) or new_thread(request, full_key, payload)
    rules = DiscussionSettings.load()
    adapter = get_adapter()
    author, new_token = author_for(request, guest, user_token, create_guest_token=True)
    result = adapter.submit(thread, adapter.form_data(full_key, payload.dict()), author, rules=rules)
    if not result.ok:
        raise ApiError.refused(result, form_token=issue_form_token(full_key, after_error=True))
    reply = result.stored
    own = services.is_author(reply, author)
    if result.duplicate_of_retry and not (reply.thread_id == thread.pk and own):
        raise ApiError(400, "already_sent", general(_("This reply has already been sent.")))
    body: dict[str, Any] = {
        "outcome": result.outcome,
        "reply": discussion_api.reply_data(
            reply, own=own, can_change=own and services.can_change(reply, author, rules)
        ),
    }
    if new_token and own:
        body["guest_token"] = sign_guest_token(new_token)
    return Status(adapter.status(result, Dialect.JSON), body)


def new_thread(request: HttpRequest, key: str, payload: EmbedReplyIn) -> Thread:
    """The unsaved thread of a page's first reply (stored only with an accepted reply), on an
    allowed origin only, titled by its address there (see ``page_thread``)."""
    entry = embed_origin(request)
    if entry is None:
        raise ApiError(403, "origin", general(_("Only allowed sites can start a discussion here.")))
    url = (payload.url or "").strip()
    if origin_of(url) != entry.origin:
        message = _("The page address must be on %(origin)s.") % {"origin": entry.origin}
        raise ApiError(400, "invalid", {"url": [message]})
    return page_thread(entry, key, url)


@api.patch("/replies/{reply_id}", response={200: EditOut, **ERRORS}, tags=["replies"])
def edit_reply(
    request: HttpRequest,
    reply_id: int,
    payload: EditIn,
    guest: str = GuestHeader,
    user_token: str = UserHeader,
) -> dict[str, Any]:
    """Change the text of one's own reply, within the edit window (as ``/api/``'s, signed in or not)."""
    author, _new = author_for(request, guest, user_token)
    return discussion_api.edit_own_reply(reply_id, payload.body or "", author)


@api.delete("/replies/{reply_id}", response={200: DeletedOut, **ERRORS}, tags=["replies"])
def delete_reply(
    request: HttpRequest, reply_id: int, guest: str = GuestHeader, user_token: str = UserHeader
) -> dict[str, Any]:
    """Delete one's own reply, within the edit window (as ``/api/``'s, signed in or not)."""
    author, _new = author_for(request, guest, user_token)
    return discussion_api.delete_own_reply(reply_id, author)


@api.get("/counts", response={200: dict, **ERRORS}, tags=["threads"])
def counts(request: HttpRequest, response: HttpResponse, key: list[str] = CountKeys, lang: str = "") -> dict[str, Any]:
    """Approved reply counts for many pages at once (``?key=/a/&key=/b/``), with the text to show."""
    keys = count_keys(key)
    full = {k: thread_key(request, k) for k in keys}
    found = approved_counts(list(full.values()))
    numbers = {k: found[full[k]] for k in keys}
    with translation.override(_language(lang)):
        texts = {k: count_text(n) for k, n in numbers.items()}
    patch_cache_control(response, public=True, max_age=60)
    return {"counts": numbers, "text": texts}


def count_text(count: int) -> str:
    return ngettext("%(count)d reply", "%(count)d replies", count) % {"count": count}


def _language(lang: str) -> str:
    """The offered language closest to a browser's tag (pt-PT and pt find pt-br), else the default."""
    from speakout.theme.languages import default_language, supported

    return supported(lang) or default_language(read_database=False)


@api.get("/strings", response={200: dict, 400: ERRORS[400]}, tags=["widget"])
def strings(request: HttpRequest, response: HttpResponse, lang: str = "") -> dict[str, Any]:
    """The widget's words in one language (``lang``, else the site's default)."""
    language = _language(lang)
    with translation.override(language):
        words = widget_strings()
    patch_cache_control(response, public=True, max_age=3600)
    direction = "rtl" if translation.get_language_info(language)["bidi"] else "ltr"
    return {"lang": language, "dir": direction, "strings": words}


# One count from each plural category a language may have (CLDR: zero, one, two, few, many,
# other); the widget picks the sample in the same category as its count, so Arabic's six
# forms and the millions of Spanish, French and Portuguese read right.
COUNT_SAMPLES = (0, 1, 2, 3, 11, 100, 1_000_000)


def widget_strings() -> dict[str, Any]:
    from django.utils.translation import pgettext

    return {
        "count_one": ngettext("%(count)d reply", "%(count)d replies", 1),
        "count_other": ngettext("%(count)d reply", "%(count)d replies", 2),
        "count_samples": {str(n): ngettext("%(count)d reply", "%(count)d replies", n) for n in COUNT_SAMPLES},
        "empty": _("No replies yet. Yours could be the first."),
        "closed": _("Replies are closed."),
        "leave": _("Leave a Reply"),
        "leave_to": _("Leave a Reply to %(name)s"),
        "cancel_reply": _("Cancel reply"),
        "name": _("Name"),
        "email": _("Email"),
        "email_help": _("Never shown to anyone. Used only for notices you ask for."),
        "website": _("Website"),
        # The same words as the hosted form's box (discussion/reply_form.html).
        "remember": _("Save my name, email and website in this browser for my next reply"),
        "body": _("Reply"),
        "notify_replies": _("Notify me of new comments by email"),
        "notify_posts": _("Notify me of new posts by email"),
        # The same words as the hosted form's boxes (discussion/forms.py).
        "notify_answers": _("Email me when someone answers this reply"),
        "notify_outcome": _("Email me if a moderator publishes or removes this reply"),
        # The same words as the hosted form's box (discussion/forms.py), so one translation serves both.
        "approved_repliers_only": _("Only approved commenters may reply to me"),
        "approved_repliers_only_help": _(
            "Replies to this one from people new here wait until a moderator has read them."
        ),
        "honeypot": _("Leave this field empty"),
        "submit": _("Post Reply"),
        "sending": _("Sending…"),
        "reply": pgettext("action on a reply", "Reply"),
        "edit": _("Edit"),
        "delete": _("Delete"),
        "report": _("Report"),
        "save": _("Save"),
        "cancel": _("Cancel"),
        "edited": _("(edited)"),
        "held": _("Awaiting moderation."),
        "held_note": _("Only you can see this reply until a moderator approves it."),
        "in_reply_to": _("in reply to %(name)s"),
        "posted": _("Your reply has been posted."),
        "held_posted": _("Your reply is awaiting moderation. Only you can see it until a moderator approves it."),
        "saved": _("Your changes have been saved."),
        "deleted": _("Your reply has been deleted."),
        "confirm_delete": _("Delete this reply? This cannot be undone."),
        "reported": _("Thank you. A moderator will look at this reply."),
        "report_title": _("Why are you reporting this reply?"),
        "report_note": _("Anything moderators should know (optional)"),
        "send_report": _("Send report"),
        "reasons": [[value, str(label)] for value, label in Flag.Reason.choices],
        "network": _("Your reply could not be sent. Check your connection; your text is still here."),
        "load_error": _("The replies could not be loaded."),
        "sign_in": _("Sign in"),
        "sign_out": _("Log out"),
        "commenting_as": _("You are commenting as %(name)s."),
        "oldest": _("Oldest first"),
        "newest": _("Newest first"),
        "earlier": _("Earlier replies"),
        "later": _("Later replies"),
        "page": _("Page %(number)s of %(total)s"),
    }
