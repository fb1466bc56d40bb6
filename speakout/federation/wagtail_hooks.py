"""The federation in the admin: Settings → Federation (models.FederationSettings), the followers
under Snippets (approve one held for approval, remove one), the log of fetches and deliveries
under Settings → Fediverse log (read only), the Fediverse moderators' "block domain", and
rotating the site actor's key (rotation.py, a button in Settings → Federation)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.panels import FieldPanel
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from . import delivery, moderation, rotation
from .models import ActivityLog, Delivery, Follower


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
    if not isinstance(instance, Follower) or instance.state != Follower.State.ACCEPTED:
        return
    accepts = Delivery.objects.filter(inbox=instance.actor.inbox, payload__type="Accept")
    if not accepts.filter(payload__object__id=instance.follow_id).exists():
        # The inbox brings the signature libraries; only this admin action needs it here.
        from . import inbox

        inbox.accept(instance)


@hooks.register("before_delete_snippet")
def _follower_removed(request: Any, instances: Any) -> None:
    """A removed follower is told (``Reject`` of their follow), so their server stops showing
    them as following."""
    for follower in instances:
        if isinstance(follower, Follower):
            with transaction.atomic():
                delivery.answer_follow(follower, "Reject")


class ReadOnlyPolicy(ModelPermissionPolicy):
    """Only "view", and only for those given it (superusers have it): the log is a record, not
    something to edit."""

    def user_has_permission(self, user: Any, action: str) -> bool:
        return action == "view" and super().user_has_permission(user, "view")


register_permission_policy(ActivityLog, ReadOnlyPolicy(ActivityLog))


class ActivityLogViewSet(ModelViewSet):
    model = ActivityLog
    icon = "list-ul"
    menu_label = _("Fediverse log")
    add_to_settings_menu = True
    name = "fediverse-log"
    list_display = ["created_at", "kind", "host", "url", "activity_type", "outcome", "status_code", "attempt", "detail"]
    list_filter = {"kind": ["exact"], "outcome": ["exact"], "host": ["icontains"]}
    list_per_page = 100
    copy_view_enabled = False

    def get_urlpatterns(self) -> list[Any]:
        return [
            path("", self.index_view, name="index"),
            path("results/", self.index_results_view, name="index_results"),
        ]


@hooks.register("register_admin_viewset")
def _register_log() -> ActivityLogViewSet:
    return ActivityLogViewSet()


@hooks.register("register_log_actions")
def _register_log_actions(actions: Any) -> None:
    from .keys import ROTATED

    actions.register_action(ROTATED, _("Rotate the Fediverse key"), _("Fediverse key rotated"))


@hooks.register("register_admin_urls")
def _register_moderation_urls() -> list[Any]:
    urls = [
        path("block-domain/", moderation.BlockDomainView.as_view(), name="block_domain"),
        path("rotate-key/", rotation.RotateKeyView.as_view(), name="rotate_key"),
    ]
    return [path("federation/", include((urls, "federation_admin"), namespace="federation_admin"))]
