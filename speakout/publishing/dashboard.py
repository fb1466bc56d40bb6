"""The moderator's dashboard: the first panel of the admin's home screen.

What waits (held and reported replies, bans to confirm, unread and held contact messages), each
with a link into its queue, and the last moderation decisions. Registered by wagtail_hooks.py.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.components import Component

from speakout.discussion import moderation

from . import moderation as screens

RECENT_DECISIONS = 6


def waiting_items(request) -> list[dict]:
    """One row per queue this user may open: its label, how many wait, and where to go."""
    from speakout.contact import admin_views as contact_admin
    from speakout.contact.models import ContactMessage

    items = []
    if moderation.can_moderate(request.user):
        counts = moderation.queue_counts(request)
        queue = "speakout_moderation:queue"
        items.append(_row(_("Replies waiting for review"), counts["pending"], reverse(queue, args=["pending"])))
        items.append(
            _row(_("Published replies with an open report"), counts["reported"], reverse(queue, args=["reported"]))
        )
        if screens.shows_pending_bans(request):
            bans = screens.pending_ban_count(request)
            items.append(
                _row(_("Bans waiting for a second moderator"), bans, reverse("speakout_moderation:pending_bans"))
            )
    if contact_admin.can_view(request.user):
        index = reverse("speakout_contact:index")
        items.append(_row(_("Unread contact messages"), contact_admin.unread_count(), index))
        spam = ContactMessage.objects.filter(is_spam=True, archived=False, read_at__isnull=True).count()
        items.append(_row(_("Contact messages stopped by the spam filter"), spam, f"{index}?folder=spam"))
    return items


def _row(label, count: int, url: str) -> dict:
    return {"label": label, "count": count, "url": url}


class ModeratorDashboardPanel(Component):
    name = "speakout_moderator_dashboard"
    order = 10  # before Wagtail's own panels
    template_name = "publishing/admin/dashboard_panel.html"

    def __init__(self, request):
        self.request = request

    def get_context_data(self, parent_context=None):
        can_moderate = moderation.can_moderate(self.request.user)
        decisions = []
        if can_moderate:
            decisions = moderation.log_rows(moderation.log_entries().order_by("-created_at")[:RECENT_DECISIONS])
        return {
            "waiting": waiting_items(self.request),
            "decisions": decisions,
            "can_moderate": can_moderate,
            "log_url": reverse("speakout_moderation:log") if can_moderate else "",
        }


def shows_dashboard(request) -> bool:
    from speakout.contact import admin_views as contact_admin

    return moderation.can_moderate(request.user) or contact_admin.can_view(request.user)
