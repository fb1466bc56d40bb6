"""What the moderation tests share: the screens' addresses and reply rows made directly."""

from __future__ import annotations

from django.urls import reverse

from speakout.discussion.models import Commenter, Reply, Thread, path_segment
from speakout.discussion.rendering import render_markdown


def queue_url(slug: str) -> str:
    return reverse("speakout_moderation:queue", args=[slug])


def commenter_url(commenter: Commenter) -> str:
    return reverse("speakout_moderation:commenter", args=[commenter.pk])


def make_reply(
    thread: Thread,
    *,
    status: str = Reply.Status.PENDING,
    name: str = "Ada",
    email: str = "ada@example.org",
    body: str = "Hello there",
    body_html: str | None = None,
    website: str = "",
    reason: str = "",
    client_hash: str = "",
) -> Reply:
    """A reply row as an importer would leave it (no pipeline, no counts)."""
    commenter = None
    if email:
        commenter = Commenter.objects.get_or_create(email=email, defaults={"display_name": name})[0]
    reply = Reply.objects.create(
        thread=thread,
        commenter=commenter,
        author_name=name,
        author_website=website,
        body=body,
        body_html=render_markdown(body) if body_html is None else body_html,
        status=status,
        moderation_reason=reason,
        client_hash=client_hash,
    )
    reply.path = path_segment(reply.pk)
    Reply.objects.filter(pk=reply.pk).update(path=reply.path)
    return reply
