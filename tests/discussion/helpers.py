"""What discussion tests share: form data a person would send, and a service post with defaults.

Plain functions, imported where needed; the fixtures that use them live in tests/conftest.py.
"""

from __future__ import annotations

import json
import time
import uuid

from speakout.discussion.forms import issue_form_token
from speakout.discussion.models import DiscussionSettings, Reply, Thread
from speakout.discussion.services import Author, SubmissionResult, get_or_create_thread, set_status, submit_reply


def old_form_token(key: str = "key") -> str:
    """A form token issued ten seconds ago: past the time trap, as a person would be."""
    return issue_form_token(key, issued_at=time.time() - 10)


def form_data(thread: Thread, **overrides) -> dict:
    """The reply form as a guest fills it in; override any field."""
    data = {
        "thread": thread.key,
        "name": "Robin",
        "email": "robin@example.org",
        "website": "",
        "body": "A thoughtful reply.",
        "form_token": old_form_token(thread.key),
        "submission_id": uuid.uuid4().hex,
    }
    data.update(overrides)
    return data


def new_author(**fields) -> Author:
    """A guest on a client of their own."""
    return Author(**{"client_hash": uuid.uuid4().hex, "guest_token": uuid.uuid4().hex, **fields})


def post(thread: Thread, author: Author | None = None, checks=None, **overrides) -> SubmissionResult:
    """Submit a reply through the service with sensible defaults; override any field."""
    return submit_reply(
        thread=thread, data=form_data(thread, **overrides), author=author or new_author(), checks=checks
    )


def publishing_rules() -> DiscussionSettings:
    """The discussion settings row, with the first-reply hold off so replies publish."""
    rules = DiscussionSettings.load()
    rules.hold_first_reply = False
    rules.save()
    return rules


def report_thread() -> Thread:
    return get_or_create_thread("report-test", url="http://testserver/reports/test/", title="A test report")


def add_reply(
    thread: Thread,
    body: str,
    *,
    name: str = "Robin",
    parent: Reply | None = None,
    user=None,
    email: str = "",
    website: str = "",
    status: str | None = None,
    required: bool = True,
) -> Reply | None:
    """A reply through the write path past every policy check (approved), then moved to
    ``status`` if given; None if refused and not ``required``."""
    result = submit_reply(
        thread=thread,
        data={
            "thread": thread.key,
            "parent": parent.pk if parent else "",
            "name": name,
            "email": email or f"{name.split()[0].lower()}@example.org",
            "website": website,
            "body": body,
        },
        author=Author(user=user),
        checks=[],
        check_form_token=False,
    )
    assert result.ok or not required, result.errors
    if not result.ok:
        return None
    return set_status(result.stored, status) if status is not None else result.stored


def api_post(client, thread: Thread, number: int, guest: str = "", **fields) -> dict:
    """A new writer's reply through the JSON API, from a client of its own (rate limits stay out
    of it): the answer's status and body."""
    words = "".join(chr(97 + int(digit)) for digit in str(number))  # no digits: not a phone number
    data = {
        "name": f"Writer {words}",
        "email": f"writer-{words}@example.org",
        "body": f"Reply {words}, with **Markdown**.",
        "form_token": issue_form_token(thread.key, issued_at=time.time() - 10),
        **fields,
    }
    response = client.post(
        f"/api/threads/{thread.key}/replies",
        json.dumps(data),
        content_type="application/json",
        REMOTE_ADDR=f"198.51.{number % 250}.1",
        headers={"X-Speakout-Guest": guest} if guest else {},
    )
    return {"status": response.status_code, **response.json()}
