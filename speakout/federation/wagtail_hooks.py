"""The federation in the admin: Settings → Federation (models.FederationSettings) and the
followers under Snippets (approve one held for approval, remove one)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.panels import FieldPanel
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from . import delivery, documents, inbox
from .models import Follower


class FollowerViewSet(SnippetViewSet):
    model = Follower
    icon = "group"
    menu_label = _("Fediverse followers")
    list_display = ["actor", "state", "created_at"]
    list_filter = ["state"]
    copy_view_enabled = False
    panels = [FieldPanel("state")]


register_snippet(FollowerViewSet)


@hooks.register("after_edit_snippet")
def _follower_approved(request: Any, instance: Any) -> None:
    if isinstance(instance, Follower) and instance.state == Follower.State.ACCEPTED:
        if not delivery_sent(instance, "Accept"):
            inbox.accept(instance)


@hooks.register("before_delete_snippet")
def _follower_removed(request: Any, instances: Any) -> None:
    """A removed follower is told (``Reject`` of their follow), so their server stops showing
    them as following."""
    for follower in instances:
        if isinstance(follower, Follower):
            with transaction.atomic():
                follow = {"id": follower.follow_id, "type": "Follow", "actor": follower.actor.url,
                          "object": documents.actor_url()}  # fmt: skip
                rejection = documents.activity("Reject", follow, to=[follower.actor.url])
                delivery.queue(rejection, [follower.actor.inbox])


def delivery_sent(follower: Follower, kind: str) -> bool:
    from .models import Delivery

    sent = Delivery.objects.filter(inbox=follower.actor.inbox, payload__type=kind)
    return sent.filter(payload__object__id=follower.follow_id).exists()
