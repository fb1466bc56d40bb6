"""What a Fediverse reply shows beside its name: the actor's handle, proven by the signature its
Create carried, linked to the remote profile, and its avatar as kept on this site."""

from __future__ import annotations

from collections.abc import Sequence

from django.urls import reverse

from speakout.discussion.html import ProvenIdentity
from speakout.discussion.models import Reply

from .models import FederatedReply


def reply_identities(replies: Sequence[Reply]) -> dict[int, ProvenIdentity]:
    rows = (
        FederatedReply.objects.filter(reply_id__in=[reply.pk for reply in replies], outgoing=False)
        .exclude(actor=None)
        .values_list(
            "reply_id", "actor_id", "actor__username", "actor__domain", "actor__profile_url", "actor__avatar_type"
        )
    )
    found = {}
    pattern = ""
    for reply_id, actor_id, username, domain, profile_url, avatar_type in rows:
        if not username:
            continue
        if avatar_type and not pattern:
            pattern = reverse("federation:avatar", args=[987654321]).replace("987654321", "{id}")
        found[reply_id] = ProvenIdentity(
            handle=f"@{username}@{domain}",
            profile_url=profile_url if profile_url.startswith(("https://", "http://")) else "",
            avatar_url=pattern.format(id=actor_id) if avatar_type else "",
        )
    return found
