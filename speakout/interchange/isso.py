"""Isso: its SQLite database, or the generic JSON format its ``isso import`` reads.

Threads are keyed by URI (a path on the old site). A thread whose URI matches an imported or
existing page joins that page's discussion; otherwise it becomes an external thread. Isso
stores replies as Markdown, which is what our replies are written in too.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime

from django.conf import settings
from django.utils.translation import gettext as _

from speakout.discussion.models import Reply

from .dates import parse_iso
from .errors import ImportFailed
from .importers import Importer
from .replies import CommentData

# Isso's modes: 1 accepted, 2 waiting for moderation, 4 deleted (kept for its children).
ISSO_MODES = {1: Reply.Status.APPROVED, 2: Reply.Status.PENDING, 4: Reply.Status.TRASH}


def _comment(fields: dict, created_at: datetime | None) -> CommentData:
    """One Isso comment, a row of its database or an object of its JSON."""
    return CommentData(
        source_id=str(fields.get("id", "")),
        parent_id=str(fields.get("parent") or ""),
        author_name=str(fields.get("author") or ""),
        email=str(fields.get("email") or ""),
        website=str(fields.get("website") or ""),
        created_at=created_at,
        body=str(fields.get("text") or ""),
        status=ISSO_MODES.get(fields.get("mode", 1), Reply.Status.PENDING),
        markdown=True,
    )


class _IssoBase(Importer):
    def write(self, threads: list[tuple[str, str, list[CommentData]]]) -> None:
        self.writer.source = "isso"
        for uri, title, comments in threads:
            if not comments:
                continue
            url = uri if uri.startswith(("http://", "https://")) else settings.BASE_URL + "/" + uri.lstrip("/")
            thread = self.writer.thread_for_url(f"isso:{uri}", uri, url, title)
            self.writer.save_replies(thread, comments, prefix="isso:")


class IssoSQLiteImporter(_IssoBase):
    format = "isso"
    label = "Isso (SQLite database)"

    @classmethod
    def detect(cls, peek: bytes) -> bool:
        return peek.startswith(b"SQLite format 3\x00")

    def run(self) -> None:
        try:
            database = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            database.row_factory = sqlite3.Row
            threads = database.execute("SELECT id, uri, title FROM threads ORDER BY id").fetchall()
        except sqlite3.DatabaseError as error:
            raise ImportFailed(_("This is not an Isso database: %(error)s") % {"error": error}) from error
        out = []
        for thread in threads:
            rows = database.execute("SELECT * FROM comments WHERE tid = ? ORDER BY id", [thread["id"]])
            comments = [
                _comment(dict(row), datetime.fromtimestamp(row["created"], tz=UTC) if row["created"] else None)
                for row in rows
            ]
            out.append((thread["uri"] or "", thread["title"] or "", comments))
        database.close()
        self.moved(self.progress.total)
        self.write(out)


class IssoJSONImporter(_IssoBase):
    format = "isso-json"
    label = "Isso (JSON)"

    @classmethod
    def detect(cls, peek: bytes) -> bool:
        return peek.lstrip().startswith(b"[") and b'"comments"' in peek

    def run(self) -> None:
        try:
            with open(self.path, encoding="utf-8") as handle:
                data = json.load(handle)
        except (ValueError, UnicodeDecodeError) as error:
            line = getattr(error, "lineno", None)
            raise ImportFailed(
                _("The file is not valid JSON (line %(line)s): %(error)s") % {"line": line, "error": error}, line=line
            ) from error
        if not isinstance(data, list):
            raise ImportFailed(_("An Isso JSON export is a list of threads."))
        out = []
        for number, thread in enumerate(data, start=1):
            if not isinstance(thread, dict) or "id" not in thread:
                self.result.skip(_("thread %(n)s") % {"n": number}, _("it has no id (its URI)"))
                continue
            comments = [
                _comment(comment, parse_iso(str(comment.get("created") or "")))
                for comment in thread.get("comments") or []
            ]
            out.append((str(thread["id"]), str(thread.get("title") or ""), comments))
        self.moved(self.progress.total)
        self.write(out)
