"""What the discussion JSON API accepts and returns, field by field.

Both directions are whitelists (isso's ``ACCEPT`` and ``FIELDS``): unknown input fields are
ignored, and nothing private (email, client hash, guest key, commenter) has a field to travel in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Schema
from pydantic import Field

from .models import Flag

# Largest id a 64-bit primary key can hold; anything bigger cannot name a reply.
MAX_ID = 2**63 - 1


class ErrorOut(Schema):
    """Every error (400, 403, 404, 429) has this shape. ``errors`` maps a field name, or
    ``__all__`` for the request as a whole, to its messages. Rejected reply submissions also
    carry a fresh ``form_token``, so the writer can send the kept text again."""

    outcome: Literal["rejected"] = "rejected"
    code: str = Field(
        description=(
            "Why, for programs: invalid (see errors), form_expired, rate_limit (429), "
            "closed, parent, duplicate, already_sent, invalid_json, invalid_utf8, "
            "invalid_characters, too_large, too_many_keys, forbidden (403), not_found (404), "
            "or the code of a policy check added by the site."
        )
    )
    errors: dict[str, list[str]]
    form_token: str | None = None
    confirm: dict[str, str] | None = Field(
        default=None,
        description="Warnings the writer may overrule: send the reply again with these codes in `confirm`.",
    )


class ReplyOut(Schema):
    id: int
    parent: int | None
    author_name: str
    author_website: str
    avatar_url: str = Field(description="The author's avatar: an SVG drawn by this site, same origin.")
    body_html: str
    created_at: datetime
    edited_at: datetime | None
    status: Literal["approved", "held"] = Field(
        description="``held`` only ever appears on the reader's own replies awaiting moderation."
    )
    own: bool
    can_change: bool
    in_reply_to: str = Field(description="The parent's author name, when nesting is flattened at the deepest level.")
    children: list[ReplyOut] = Field(default_factory=list)


ReplyOut.model_rebuild()


class ThreadInfo(Schema):
    key: str
    title: str
    url: str
    status: Literal["open", "closed"]
    count: int = Field(description="Approved replies in the whole thread.")
    accepts_replies: bool


class PageInfo(Schema):
    number: int
    count: int
    per_page: int
    sort: Literal["oldest", "newest"]


class ThreadOut(Schema):
    thread: ThreadInfo
    page: PageInfo
    replies: list[ReplyOut]
    form_token: str = Field(description="Send it back with a new reply (the time trap).")


class ReplyIn(Schema):
    """A new reply. Optional text fields may be left out, empty or null."""

    parent: int | None = Field(default=None, ge=1, le=MAX_ID)
    name: str | None = None
    email: str | None = Field(default=None, description="Never shown, never returned.")
    website: str | None = None
    body: str | None = None
    form_token: str | None = Field(default=None, description="From the thread's `form_token` (the time trap).")
    submission_id: str | None = Field(
        default=None,
        max_length=64,
        description="A random id per submission; sending it again returns the first reply.",
    )
    homepage: str | None = Field(default=None, description="Honeypot: leave empty.")
    notify_replies: bool | None = Field(default=None, description="Ask for mail about new replies in this thread.")
    notify_posts: bool | None = Field(default=None, description="Ask for mail about new posts.")
    notify_answers: bool | None = Field(
        default=None,
        description="Ask for mail when someone answers this reply. Left out: yes for a signed-in reader with a "
        "verified address, no otherwise. A guest's address gets a confirmation mail first.",
    )
    notify_outcome: bool | None = Field(
        default=None,
        description="Ask for mail when a moderator publishes this reply (if it was held) or removes it with a "
        "notice. Left out: as `notify_answers`.",
    )
    approved_repliers_only: bool | None = Field(
        default=None, description="Only commenters with an approved reply may answer this one without review."
    )
    federate: bool | None = Field(
        default=None,
        description="Also post this reply to the Fediverse (the reply form's box). A wish: it goes only when the "
        "site lets members federate their replies and the writer is a signed-in account with a verified address, "
        "not a pseudonym; a guest's reply never leaves the site.",
    )
    confirm: list[str] | None = Field(
        default=None,
        description="Codes of warnings to overrule (an error's `confirm` keys), e.g. `personal_data`.",
    )


class SubmissionOut(Schema):
    outcome: Literal["published", "held"]
    reply: ReplyOut
    guest_token: str | None = Field(
        default=None,
        description="Only when a new guest identity was made: send it back in X-Speakout-Guest.",
    )


class EditIn(Schema):
    body: str | None = None


class EditOut(Schema):
    outcome: Literal["published", "held"]
    reply: ReplyOut


class DeletedOut(Schema):
    outcome: Literal["deleted"] = "deleted"
    id: int


class ReportIn(Schema):
    reason: str | None = Field(default=None, description=" | ".join(Flag.Reason.values))
    note: str | None = None


class ReportedOut(Schema):
    outcome: Literal["reported"] = "reported"
    id: int
