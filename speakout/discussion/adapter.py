"""The front door: what every front end (the HTML form, ``/api/``, the embed API, the Isso API,
later the Fediverse inbox) does the same way before and after ``services.submit_reply``.

A front end only reads its own request shape and writes its own response shape. In between it
asks the adapter, as allauth's views ask ``get_adapter()``:

* ``author(...)``: who is writing, with the client's hash under every key still kept, so a ban
  or a rate limit recorded before a key rotation holds on every front end;
* ``form_data(...)``: its payload as ``ReplyForm`` data (field names mapped, "post anyway"
  confirmations passed on), so the same form validates every front end's input;
* ``submit(...)``: the service, which may also start the thread of a page on an allowed site;
  the thread is stored with the reply, so a refused reply leaves no thread behind;
* ``status(...)``, ``plain_error(...)``: the result as that front end's status code, and its
  messages as one line for the front ends that answer in plain text (the JSON front ends write
  ``error_body``).

Replace it with ``SPEAKOUT_DISCUSSION_ADAPTER`` (a dotted path to a subclass) to change a rule
for every front end at once.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Any

from django.http import HttpRequest
from django.utils.module_loading import import_string

from . import app_settings, services
from .clients import client_hash, client_hashes, new_guest_token
from .models import DiscussionSettings, Thread
from .services import Author, Outcome, SubmissionResult

# The ReplyForm fields a front end may fill in; anything else in a payload is ignored.
FORM_FIELDS = (
    "parent",
    "name",
    "email",
    "website",
    "body",
    "form_token",
    "submission_id",
    "homepage",
    "notify_replies",
    "notify_posts",
    "notify_answers",
    "notify_outcome",
    "approved_repliers_only",
    "federate",
)
BOOLEAN_FIELDS = ("notify_replies", "notify_posts", "approved_repliers_only", "federate")
# Boxes whose absence leaves the choice to the site (``services.writer_wishes``), not "no".
DEFAULTED_FIELDS = ("notify_answers", "notify_outcome")


class Dialect(enum.StrEnum):
    """The response shapes of the front ends."""

    HTML = "html"  # a redirect, or the form again with its errors
    JSON = "json"  # /api/ and /embed/api/
    ISSO = "isso"  # Isso's statuses: 201 published, 202 held, 400 malformed, 403 refused


class FrontDoorAdapter:
    """Override a method to change it for every front end; see the module's docstring."""

    def author(
        self, request: HttpRequest, *, user: Any = None, guest_token: str = "", create_guest_token: bool = False
    ) -> tuple[Author, str]:
        """The writer (``user`` when signed in, else a guest known by ``guest_token``) and a new
        guest token when one had to be made for a first post (the front end hands it back)."""
        new_token = ""
        if user is not None and not getattr(user, "is_authenticated", False):
            user = None
        if not guest_token and user is None and create_guest_token:
            guest_token = new_token = new_guest_token()
        hashes = tuple(client_hashes(request))
        author = Author(
            user=user,
            guest_token=guest_token,
            client_hash=hashes[0] if hashes else client_hash(request),
            client_hashes=hashes,
            new_guest_token=bool(new_token),
        )
        return author, new_token

    def form_data(
        self, thread_key: str, payload: Mapping[str, Any], *, renamed: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """A front end's payload as ``ReplyForm`` data. ``renamed`` maps the form's field names
        to the payload's where they differ (Isso calls the body ``text``)."""
        renamed = renamed or {}
        data: dict[str, Any] = {"thread": thread_key}
        for name in FORM_FIELDS:
            value = payload.get(renamed.get(name, name))
            if name in BOOLEAN_FIELDS:
                data[name] = bool(value)
            elif name in DEFAULTED_FIELDS:
                data[name] = None if value is None else value
            else:
                data[name] = "" if value is None else value
        data["confirm"] = confirmations(payload.get("confirm"))
        return data

    def submit(
        self,
        thread: Thread,
        data: Mapping[str, Any],
        author: Author,
        *,
        rules: DiscussionSettings | None = None,
        check_form_token: bool = True,
    ) -> SubmissionResult:
        """Store the reply. ``thread`` may be unsaved: a page's first reply then creates it, in
        the reply's transaction, and a refused reply creates nothing."""
        # Looked up on the module, so that the one service stays the place to wrap or replace.
        return services.submit_reply(
            thread=thread, data=data, author=author, rules=rules, check_form_token=check_form_token
        )

    def status(self, result: SubmissionResult, dialect: Dialect) -> int:
        if result.ok:
            if dialect == Dialect.HTML:
                return 303
            if dialect == Dialect.ISSO:
                return 201 if result.outcome == Outcome.PUBLISHED else 202
            return 200 if result.duplicate_of_retry else 201
        if dialect == Dialect.ISSO:
            return 400 if result.code == "invalid" else 403
        return 429 if result.code == "rate_limit" else 400

    def plain_error(self, result: SubmissionResult) -> str:
        """Every message in one line, for front ends that answer in plain text (Isso)."""
        return " ".join(message for messages in result.errors.values() for message in messages)


def error_body(
    code: str, errors: Mapping[str, list[str]], form_token: str = "", confirm: Mapping[str, str] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"outcome": Outcome.REJECTED.value, "code": code, "errors": dict(errors)}
    if form_token:
        body["form_token"] = form_token
    if confirm:
        body["confirm"] = dict(confirm)
    return body


def confirmations(values: object) -> list[str]:
    """The codes of the warnings a writer chose to overrule: one, or a list of them."""
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, Iterable) or isinstance(values, Mapping):
        return []
    return [str(value) for value in values if isinstance(value, str) and value]


def get_adapter() -> FrontDoorAdapter:
    adapter: FrontDoorAdapter = import_string(app_settings.ADAPTER)()
    return adapter
