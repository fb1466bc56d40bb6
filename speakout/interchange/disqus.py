"""Disqus XML exports: threads, then posts that point at their thread and parent by Disqus id.

A post may come before its parent, so posts are gathered per thread (small records, not XML)
and written once the file is read. A thread is matched to an imported or existing page by its
address; otherwise it becomes an external thread keyed ``disqus-<id>``.
"""

from __future__ import annotations

from collections import defaultdict

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from speakout.discussion.models import Reply

from .dates import parse_iso
from .importers import Importer
from .replies import CommentData
from .xmlstream import CountingReader, first_texts, stream


def _dsq_id(element) -> str:
    """The ``dsq:id`` attribute (whatever the namespace's spelling)."""
    if element is None:
        return ""
    for key, value in element.attrib.items():
        if key.endswith("}id"):
            return value.strip()
    return ""


def _child(element, local: str):
    for child in element:
        if child.tag.rsplit("}", 1)[-1] == local:
            return child
    return None


class DisqusImporter(Importer):
    format = "disqus"
    label = "Disqus"

    @classmethod
    def detect(cls, peek: bytes) -> bool:
        return b"<disqus" in peek

    def run(self) -> None:
        threads: dict[str, dict] = {}
        posts: dict[str, list[CommentData]] = defaultdict(list)
        with open(self.path, "rb") as handle:
            reader = CountingReader(handle)
            for name, element in stream(reader, depth=1):
                if name == "disqus:thread":
                    fields = first_texts(element)
                    threads[_dsq_id(element)] = {
                        "link": fields.get("disqus:link", "").strip(),
                        "title": fields.get("disqus:title", "").strip(),
                        "forum": fields.get("disqus:forum", "").strip(),
                    }
                elif name == "disqus:post":
                    self._post(element, posts)
                self.moved(reader.position)
        forum = next((t["forum"] for t in threads.values() if t["forum"]), "")
        self.writer.source = f"disqus:{forum}"
        for thread_id, comments in posts.items():
            info = threads.get(thread_id)
            if info is None or not info["link"]:
                self.result.skip(
                    ngettext(
                        "%(count)s reply in Disqus thread %(id)s",
                        "%(count)s replies in Disqus thread %(id)s",
                        len(comments),
                    )
                    % {"count": len(comments), "id": thread_id},
                    _("the thread is not in the file or has no address"),
                )
                continue
            thread = self.writer.thread_for_url(f"disqus-{thread_id}", info["link"], info["link"], info["title"])
            self.writer.save_replies(thread, comments, prefix="disqus:")

    def _post(self, element, posts) -> None:
        fields = first_texts(element)
        author = _child(element, "author")
        author_fields = first_texts(author) if author is not None else {}
        post_id = _dsq_id(element)
        thread_id = _dsq_id(_child(element, "thread"))
        if fields.get("disqus:isSpam", "").strip() == "true":
            status = Reply.Status.SPAM
        elif fields.get("disqus:isDeleted", "").strip() == "true":
            status = Reply.Status.TRASH
        else:
            status = Reply.Status.APPROVED
        posts[thread_id].append(
            CommentData(
                source_id=post_id,
                parent_id=_dsq_id(_child(element, "parent")),
                author_name=author_fields.get("disqus:name", "") or author_fields.get("disqus:username", ""),
                email=author_fields.get("disqus:email", ""),
                created_at=parse_iso(fields.get("disqus:createdAt", "")),
                body=fields.get("disqus:message", ""),
                status=status,
            )
        )
