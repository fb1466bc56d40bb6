"""Demo discussion: readers talking about the Lisbon conference report, all written for Speakout.

``load_demo_discussion(report)`` posts about forty replies under a report, every one through
``submit_reply`` and the policy pipeline (without the rate limit and the time trap, which are
about real people at real keyboards). Most are published; a few are left in the moderation queues
so a new site has something to show there: three held for review, two caught as spam, and one
published reply that a reader has reported. The people and their words are in
``demo_content/discussion.toml``.

It is idempotent: a thread that already has replies is left alone. The site's discussion settings
are copied and adjusted in memory for the demo; the stored settings are never changed.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import tomllib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from speakout.discussion.clients import new_guest_token
from speakout.discussion.models import DiscussionSettings, Flag, Reply
from speakout.discussion.policy import (
    BannedCheck,
    BlockWordsCheck,
    ClosedThreadCheck,
    DuplicateCheck,
    HoldWordsCheck,
    HoneypotCheck,
    LinkCountCheck,
    TrustCheck,
)
from speakout.discussion.services import REJECTED, Author, flag_reply, submit_reply

from .discussion import thread_for_report

logger = logging.getLogger(__name__)

# Hours after the report's date at which each reply is dated, on a six-day scale. When the report
# is younger than that, every time is shrunk in proportion so that no reply is dated in the future.
TIME_SCALE_HOURS = 144

# Words a moderator of such a site might well list: people sometimes post their own phone number
# in public without thinking, and some spam is too predictable to look at twice.
DEMO_HOLD_WORDS = ["whatsapp"]
DEMO_BLOCK_WORDS = ["crypto signals"]


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    website: str = ""


@dataclass(frozen=True)
class Entry:
    key: str
    person: str
    hours: float  # after the report's date, on the TIME_SCALE_HOURS scale
    body: str
    parent: str | None = None
    homepage: str = ""  # the honeypot field: only robots fill it in
    first_timer: bool = False  # posted under rules that hold a commenter's first reply


# The people and the conversation, in the order it happened (a parent always comes before its
# replies), and a reader's mild report of an off-topic reply, left open for the moderators.
_DATA = tomllib.loads((Path(__file__).parent / "demo_content" / "discussion.toml").read_text(encoding="utf-8"))
PEOPLE = {handle: Person(**person) for handle, person in _DATA["people"].items()}
CONVERSATION = [Entry(**entry) for entry in _DATA["conversation"]]
FLAGGED_ENTRY = _DATA["flag"]["reply"]
FLAG_NOTE = _DATA["flag"]["note"]


def demo_checks() -> list:
    """The reply pipeline without the rate limit and the time trap."""
    return [
        ClosedThreadCheck(),
        HoneypotCheck(),
        DuplicateCheck(),
        BannedCheck(),
        BlockWordsCheck(),
        HoldWordsCheck(),
        LinkCountCheck(),
        TrustCheck(),
    ]


def _copy_rules(rules: DiscussionSettings, **changes) -> DiscussionSettings:
    """An in-memory copy of the settings with some changes. It is never saved."""
    result = copy.copy(rules)
    for name, value in changes.items():
        setattr(result, name, value)
    return result


def _demo_rules() -> tuple[DiscussionSettings, DiscussionSettings]:
    site_rules = DiscussionSettings.load()
    rules = _copy_rules(
        site_rules,
        hold_first_reply=False,
        auto_close_days=0,  # the demo's replies are dated after the report, whatever the site says
        hold_words="\n".join([site_rules.hold_words, *DEMO_HOLD_WORDS]).strip(),
        block_words="\n".join([site_rules.block_words, *DEMO_BLOCK_WORDS]).strip(),
    )
    return rules, _copy_rules(rules, hold_first_reply=True)


def _client_hash(handle: str) -> str:
    return hashlib.sha256(f"speakout-demo-client:{handle}".encode()).hexdigest()


def _summary(thread, created: bool, rejected: int = 0) -> dict:
    counts = {status: 0 for status in Reply.Status.values}
    for status in thread.replies.values_list("status", flat=True):
        counts[status] += 1
    counts["flags"] = Flag.objects.filter(reply__thread=thread).count()
    counts["rejected"] = rejected
    counts["created"] = created
    return counts


@transaction.atomic
def load_demo_discussion(report) -> dict:
    """Post the demo conversation under ``report``. Returns reply counts by status, the number
    of reader reports ("flags"), entries the pipeline refused ("rejected", normally 0) and
    whether anything was created. A thread that already has replies is left unchanged."""
    thread = thread_for_report(report)
    if thread.replies.exists():
        return _summary(thread, created=False)

    rules, first_reply_rules = _demo_rules()
    checks = demo_checks()
    authors = {handle: Author(client_hash=_client_hash(handle), guest_token=new_guest_token()) for handle in PEOPLE}

    start = report.first_published_at or report.date
    now = timezone.now()
    scale = min(1.0, max(0.0, (now - start) / timedelta(hours=TIME_SCALE_HOURS)))
    hours = {entry.key: entry.hours for entry in CONVERSATION}

    posted: dict[str, Reply] = {}
    rejected = 0
    for entry in sorted(CONVERSATION, key=lambda entry: entry.hours):
        parent = None
        if entry.parent is not None:
            assert hours[entry.parent] < entry.hours, f"{entry.key} is dated before its parent"
            parent = posted.get(entry.parent)
            if parent is None or parent.status != Reply.Status.APPROVED:
                rejected += 1  # its parent was refused or held: nothing to answer
                continue
        person = PEOPLE[entry.person]
        data = {
            "thread": thread.key,
            "parent": parent.pk if parent else "",
            "name": person.name,
            "email": person.email,
            "website": person.website,
            "body": entry.body,
            "homepage": entry.homepage,
        }
        result = submit_reply(
            thread=thread,
            data=data,
            author=authors[entry.person],
            checks=checks,
            check_form_token=False,
            rules=first_reply_rules if entry.first_timer else rules,
        )
        if result.outcome == REJECTED:
            logger.warning("Demo reply %s was refused: %s", entry.key, result.errors)
            rejected += 1
            continue
        reply = result.reply
        reply.created_at = start + timedelta(hours=entry.hours * scale)
        Reply.objects.filter(pk=reply.pk).update(created_at=reply.created_at)
        posted[entry.key] = reply

    flagged = posted.get(FLAGGED_ENTRY)
    if flagged is not None and flagged.status == Reply.Status.APPROVED:
        flag_reply(flagged, Flag.Reason.OTHER, note=FLAG_NOTE, client_hash=_client_hash("a-reader"))
    thread.bump_version()
    return _summary(thread, created=True, rejected=rejected)
