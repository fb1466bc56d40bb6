"""Evidence holds: take a threatening reply off the public site and seal it for a lawyer.

A hold moves the reply to the trash (through the discussion's ``set_status``, so the page, the
API, the feeds and the widget drop it at once) and stores a sealed copy of it: the canonical JSON
of the reply, its thread, its author and the reports about it, with the SHA-256 of those exact
bytes. Every seal also covers the previous hold's seal, so the stored holds form a hash chain.

The bundle a lawyer downloads is a zip that can be checked without Speakout (``sha256sum -c
SHA256SUMS``) and, against this site's records, with ``speakout manage safety_verify_evidence``
or the admin's "Check a bundle" form. docs/safety.md explains both.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from speakout.discussion import services
from speakout.discussion.models import ModerationLogEntry, Reply
from speakout.outbox.sender import organisation_name

from .models import EvidenceHold, SafetySettings

FORMAT = "speakout-evidence/1"
CONTENT_FILE = "evidence.json"
SEAL_FILE = "seal.json"
SUMS_FILE = "SHA256SUMS"
README_FILE = "README.txt"
REASON_LENGTH = 500
# A bundle holds four small files; anything far beyond is not one (a zip bomb, say).
MAX_ENTRIES = 16
MAX_ENTRY_BYTES = 8 * 1024 * 1024


def canonical(value) -> bytes:
    """The one byte form that is hashed: sorted keys, no spaces, UTF-8. The sealed values are
    only strings, integers, booleans and nulls, so this matches RFC 8785 (JSON canonicalisation)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def seal_of(content_sha256: str, previous_seal: str, sealed_at: str) -> str:
    return sha256(canonical({"content_sha256": content_sha256, "previous_seal": previous_seal, "sealed_at": sealed_at}))


def _time(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _person(user) -> dict | None:
    return None if user is None else {"id": user.pk, "username": user.get_username()}


def _logged(reason: str, content_sha256: str) -> str:
    """The moderation log's reason for a hold or release: the moderator's, with the seal's hash."""
    return (f"{reason} (SHA-256 {content_sha256})" if reason else f"SHA-256 {content_sha256}")[:REASON_LENGTH]


def active_holds() -> QuerySet[EvidenceHold]:
    return EvidenceHold.objects.filter(released_at__isnull=True)


def is_held(reply_id_field: str = "pk") -> Exists:
    """An ``Exists`` for querysets of replies (or rows pointing at replies) under an active hold."""
    return Exists(active_holds().filter(reply=OuterRef(reply_id_field)))


def _report(flag) -> dict:
    """A reader's report; with ``reported_text``, the reply's text when it was reported, if its
    author has changed it since (the sealed "text" is then not what the reader saw)."""
    report = {
        "reason": flag.reason,
        "details": flag.note,
        "reported_at": _time(flag.created_at),
        "resolved_at": _time(flag.resolved_at),
    }
    if flag.edited_since:
        report["reported_text"] = flag.reported_body
    return report


def snapshot(reply: Reply, *, held_at: datetime, held_by, reason: str) -> dict:
    """Everything a lawyer needs about the reply, as plain values."""
    commenter = reply.commenter
    parent = reply.parent
    return {
        "format": FORMAT,
        "site": {"name": settings.SITE_NAME, "address": settings.BASE_URL},
        "held": {"at": _time(held_at), "by": _person(held_by), "reason": reason},
        "thread": {"key": reply.thread.key, "address": reply.thread.url, "title": reply.thread.title},
        "reply": {
            "id": reply.pk,
            "address": reply.get_absolute_url(),
            "status_before_hold": reply.status,
            "kind": reply.kind,
            "created_at": _time(reply.created_at),
            "edited_at": _time(reply.edited_at),
            "author_name": reply.author_name,
            "author_website": reply.author_website,
            "text": reply.body,
            "html": reply.body_html,
            "in_answer_to": None
            if parent is None
            else {"id": parent.pk, "author_name": parent.author_name, "text": parent.body},
            "client_hash": reply.client_hash,
            "signed_in_account": _person(reply.user),
            "moderation_reason": reply.moderation_reason,
        },
        "author": None
        if commenter is None
        else {
            "commenter_id": commenter.pk,
            "email": commenter.email,
            "name": commenter.display_name,
            "website": commenter.website,
            "account": _person(commenter.user),
            "first_seen": _time(commenter.created_at),
            "approved_replies": commenter.approved_count,
            "banned": commenter.is_banned,
        },
        "reports": [_report(flag) for flag in reply.flags.order_by("created_at", "pk")],
        "moderation_log": [
            {"at": _time(entry.created_at), "action": entry.action, "by": _person(entry.actor), "reason": entry.reason}
            for entry in reply.log_entries.select_related("actor").order_by("created_at", "pk")
        ],
    }


def hold_reply(reply: Reply, *, actor, reason: str = "") -> EvidenceHold:
    """Take the reply off the public site and seal it. Holding a reply already held returns
    the existing hold: there is one active seal per reply."""
    reason = " ".join(reason.split())[: REASON_LENGTH - 80]
    with transaction.atomic():
        # One hold at a time, so each seal links to the one before it (the settings row is the lock).
        SafetySettings.load()
        SafetySettings.objects.select_for_update().filter(pk=1).first()
        existing = active_holds().filter(reply=reply).first()
        if existing is not None:
            return existing
        reply = Reply.objects.select_related("thread", "commenter__user", "user", "parent").get(pk=reply.pk)
        held_at = timezone.now()
        content = canonical(snapshot(reply, held_at=held_at, held_by=actor, reason=reason))
        content_sha256 = sha256(content)
        last = EvidenceHold.objects.order_by("-pk").first()
        previous_seal = last.seal_sha256 if last else ""
        hold = EvidenceHold.objects.create(
            reply=reply,
            content=content.decode("utf-8"),
            content_sha256=content_sha256,
            previous_seal=previous_seal,
            seal_sha256=seal_of(content_sha256, previous_seal, _time(held_at)),
            held_at=held_at,
            held_by=actor,
            reason=reason,
        )
        log_reason = _logged(reason, content_sha256)
        if reply.status != Reply.Status.TRASH:
            services.set_status(reply, Reply.Status.TRASH, actor=actor, reason=log_reason, action="evidence_hold")
        else:
            ModerationLogEntry.objects.create(
                reply=reply, commenter_id=reply.commenter_id, actor=actor, action="evidence_hold", reason=log_reason
            )
    return hold


def release_hold(hold: EvidenceHold, *, actor, reason: str = "") -> bool:
    """End a hold. The reply stays in the trash, where the usual rules apply again; the sealed
    copy is kept until the retention purge drops it (``SPEAKOUT_PRIVACY_RELEASED_EVIDENCE_DAYS``)."""
    reason = " ".join(reason.split())[:REASON_LENGTH]
    with transaction.atomic():
        updated = EvidenceHold.objects.filter(pk=hold.pk, released_at__isnull=True).update(
            released_at=timezone.now(), released_by=actor, release_reason=reason
        )
        if updated:
            ModerationLogEntry.objects.create(
                reply_id=hold.reply_id,
                commenter_id=hold.reply.commenter_id if hold.reply_id else None,
                actor=actor,
                action="evidence_release",
                reason=_logged(reason, hold.content_sha256),
            )
    return bool(updated)


# The bundle -----------------------------------------------------------------------------------


def seal_record(hold: EvidenceHold) -> dict:
    return {
        "format": FORMAT,
        "hold": hold.pk,
        "content_file": CONTENT_FILE,
        "content_sha256": hold.content_sha256,
        "previous_seal": hold.previous_seal,
        "sealed_at": _time(hold.held_at),
        "seal_sha256": hold.seal_sha256,
    }


def bundle_name(hold: EvidenceHold) -> str:
    return f"evidence-{hold.pk}-{hold.content_sha256[:12]}.zip"


def build_bundle(hold: EvidenceHold) -> bytes:
    """The zip a lawyer gets: the sealed content, the seal, a checksum file and instructions."""
    content = hold.content.encode("utf-8")
    readme = render_to_string(
        "safety/evidence/README.txt",
        {
            "hold": hold,
            "site_name": organisation_name(),
            "content_file": CONTENT_FILE,
            "seal_file": SEAL_FILE,
            "bundle_name": bundle_name(hold),
            "sealed_at": _time(hold.held_at),
        },
    )
    buffer = io.BytesIO()
    stamp = hold.held_at.astimezone(UTC).timetuple()[:6]
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for name, data in [
            (CONTENT_FILE, content),
            (SEAL_FILE, json.dumps(seal_record(hold), indent=2, sort_keys=True).encode() + b"\n"),
            (SUMS_FILE, f"{hold.content_sha256}  {CONTENT_FILE}\n".encode()),
            (README_FILE, readme.encode("utf-8")),
        ]:
            bundle.writestr(zipfile.ZipInfo(name, date_time=stamp), data, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


@dataclass
class Verification:
    """What checking a bundle or the stored chain found. ``problems`` empty means all is well."""

    problems: list[str] = field(default_factory=list)
    hold: EvidenceHold | None = None
    checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


class BundleTooLarge(ValueError):
    pass


def _entry_count(data: bytes) -> int:
    """The number of entries the zip's end record announces, read before the entries are listed
    (a zip of a million empty files costs memory just to open)."""
    record = zipfile._EndRecData(io.BytesIO(data))
    if record is None:
        raise zipfile.BadZipFile
    return record[zipfile._ECD_ENTRIES_TOTAL]


def _read_checked(bundle: zipfile.ZipFile, name: str) -> bytes:
    """An entry's bytes, refused on its declared size before anything is decompressed (the
    reader stops at the declared size, so a lying header cannot make it read more)."""
    if bundle.getinfo(name).file_size > MAX_ENTRY_BYTES:
        raise BundleTooLarge(name)
    return bundle.read(name)


def verify_bundle(data: bytes) -> Verification:
    """Check a bundle on its own (the hashes inside agree) and against this site's records."""
    result = Verification()
    try:
        if _entry_count(data) > MAX_ENTRIES:
            raise zipfile.BadZipFile
        with zipfile.ZipFile(io.BytesIO(data)) as bundle:
            if len(bundle.infolist()) > MAX_ENTRIES:
                raise zipfile.BadZipFile
            content = _read_checked(bundle, CONTENT_FILE)
            seal = json.loads(_read_checked(bundle, SEAL_FILE))
            sums = _read_checked(bundle, SUMS_FILE).decode("utf-8", "replace")
    except BundleTooLarge:
        result.problems.append(_("This file is too large to be an evidence bundle."))
        return result
    except (zipfile.BadZipFile, KeyError, ValueError, UnicodeDecodeError):
        result.problems.append(_("This is not an evidence bundle: a zip with evidence.json and seal.json."))
        return result
    if not isinstance(seal, dict):
        result.problems.append(_("seal.json is not a seal."))
        return result
    content_sha256 = sha256(content)
    if content_sha256 != seal.get("content_sha256"):
        result.problems.append(_("evidence.json was changed: its SHA-256 is not the one in seal.json."))
    if f"{content_sha256}  {CONTENT_FILE}" not in sums.splitlines():
        result.problems.append(_("evidence.json does not match the SHA256SUMS file."))
    recomputed = seal_of(str(seal.get("content_sha256")), str(seal.get("previous_seal")), str(seal.get("sealed_at")))
    if recomputed != seal.get("seal_sha256"):
        result.problems.append(_("seal.json was changed: its seal does not match its contents."))
    hold = EvidenceHold.objects.filter(seal_sha256=str(seal.get("seal_sha256", ""))).first()
    if hold is None:
        result.problems.append(_("This site has no record of this seal."))
    else:
        result.hold = hold
        if hold.content_sha256 != content_sha256:
            result.problems.append(_("evidence.json is not the content this site sealed."))
    result.checked = 1
    return result


def verify_chain() -> Verification:
    """Re-check every stored hold: its content against its hash, its seal, and the chain."""
    result = Verification()
    previous = ""
    for hold in EvidenceHold.objects.order_by("pk").iterator(chunk_size=200):
        result.checked += 1
        label = f"#{hold.pk}"
        if hold.content and sha256(hold.content.encode("utf-8")) != hold.content_sha256:
            result.problems.append(_("Hold %(hold)s: the sealed content was changed.") % {"hold": label})
        if seal_of(hold.content_sha256, hold.previous_seal, _time(hold.held_at)) != hold.seal_sha256:
            result.problems.append(_("Hold %(hold)s: the seal does not match.") % {"hold": label})
        if hold.previous_seal != previous:
            result.problems.append(
                _("Hold %(hold)s: the chain is broken before it (a hold was removed or changed).") % {"hold": label}
            )
        previous = hold.seal_sha256
    return result
