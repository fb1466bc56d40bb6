"""The moderators' side of the discussion, inside the Wagtail admin.

Registers the screens of ``moderation.py`` under ``/admin/replies/`` and a "Replies" menu with
one item per queue, each showing how many replies it holds. The discussion app stays free of
Wagtail: this glue lives in the app that knows both. It also registers the outbox's "Mail
outbox" screen (``speakout.outbox.admin_views``) under ``/admin/outbox/`` and the Settings menu.
"""

from __future__ import annotations

from collections.abc import Callable

from django.urls import include, path, reverse, reverse_lazy
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import Menu, MenuItem, SubmenuMenuItem
from wagtail.admin.ui.sidebar import LinkMenuItem as LinkMenuItemComponent
from wagtail.admin.ui.sidebar import SubMenuItem as SubMenuItemComponent

from speakout.discussion import moderation
from speakout.discussion.models import thread_dependency
from speakout.outbox import admin_views as outbox_admin
from speakout.pagecache.capture import capturing, share

from . import evidence_admin
from . import moderation as screens
from .routing import known_unrestricted, mark_unrestricted

app_name = "speakout_moderation"

urlpatterns = [
    path("", screens.QueueView.as_view(), name="index"),
    path("log/", screens.LogView.as_view(), name="log"),
    path("settings/", screens.DiscussionSettingsView.as_view(), name="settings"),
    path("safety/", screens.SafetySettingsView.as_view(), name="safety"),
    path("commenters/<int:pk>/", screens.CommenterView.as_view(), name="commenter"),
    path("bans/", screens.PendingBansView.as_view(), name="pending_bans"),
    path("evidence/", evidence_admin.EvidenceListView.as_view(), name="evidence"),
    path("evidence/hold/", evidence_admin.HoldView.as_view(), name="evidence_hold"),
    path("evidence/<int:pk>/bundle/", evidence_admin.BundleView.as_view(), name="evidence_bundle"),
    path("evidence/<int:pk>/release/", evidence_admin.ReleaseView.as_view(), name="evidence_release"),
    path("<slug:queue>/", screens.QueueView.as_view(), name="queue"),
]


@hooks.register("register_admin_urls")
def register_moderation_urls():
    return [path("replies/", include((urlpatterns, app_name)))]


class ShownMenuItem(MenuItem):
    """A menu item shown where ``shown(request)`` allows it. With ``count(request)`` its label
    carries how many items wait behind it, "Pending (3)" (and "(0)" unless ``hide_zero``)."""

    def __init__(self, label, url, *, shown: Callable, count: Callable | None = None, hide_zero=False, **kwargs):
        super().__init__(label, url, **kwargs)
        self.shown, self.count, self.hide_zero = shown, count, hide_zero

    def is_shown(self, request):
        return self.shown(request)

    def render_component(self, request):
        count = self.count(request) if self.count else 0
        shows_count = self.count is not None and (count or not self.hide_zero)
        label = f"{self.label} ({count})" if shows_count else str(self.label)
        return LinkMenuItemComponent(
            self.name, label, self.url, icon_name=self.icon_name, classname=self.classname, attrs=self.attrs
        )


def moderates(request) -> bool:
    return moderation.can_moderate(request.user)


def sees_pending_bans(request) -> bool:
    return moderates(request) and screens.shows_pending_bans(request)


def holds_evidence(request) -> bool:
    return evidence_admin.can_hold_evidence(request.user)


def manages_notices(request) -> bool:
    policy = evidence_admin.removal_notice_viewset.permission_policy
    return moderates(request) and policy.user_has_any_permission(request.user, ["add", "change", "delete"])


def edits_settings(request) -> bool:
    return moderation.can_edit_settings(request.user)


class RepliesMenuItem(SubmenuMenuItem):
    """The "Replies" menu; its label carries the number waiting for review."""

    def render_component(self, request):
        pending = moderation.queue_counts(request)["pending"]
        label = f"{self.label} ({pending})" if pending else str(self.label)
        return SubMenuItemComponent(
            self.name,
            label,
            self.menu.render_component(request),
            icon_name=self.icon_name,
            classname=self.classname,
            attrs=self.attrs,
        )


QUEUE_ICONS = {"pending": "time", "approved": "success", "reported": "warning", "spam": "no-view", "trash": "bin"}


def replies_menu_items() -> list[MenuItem]:
    def queue_count(slug: str) -> Callable:
        return lambda request: moderation.queue_counts(request)[slug]

    items: list[MenuItem] = [
        ShownMenuItem(
            queue.label,
            reverse_lazy("speakout_moderation:queue", args=[slug]),
            shown=moderates,
            count=queue_count(slug),
            name=f"replies-{slug}",
            icon_name=QUEUE_ICONS.get(slug, "globe"),
            order=(index + 1) * 100,
        )
        for index, (slug, queue) in enumerate(moderation.QUEUES.items())
    ]
    counts = {"replies-bans": screens.pending_ban_count}
    for label, url_name, name, icon, order, shown in (
        (_("Moderation log"), "speakout_moderation:log", "replies-log", "history", 800, moderates),
        (_("Bans to confirm"), "speakout_moderation:pending_bans", "replies-bans", "warning", 810, sees_pending_bans),
        (_("Evidence"), "speakout_moderation:evidence", "replies-evidence", "lock", 820, holds_evidence),
        (_("Removal notices"), "removal_notices:index", "replies-notices", "mail", 850, manages_notices),
        (_("Discussion settings"), "speakout_moderation:settings", "replies-settings", "cog", 900, edits_settings),
    ):
        url = reverse_lazy(url_name)
        items.append(
            ShownMenuItem(label, url, shown=shown, count=counts.get(name), name=name, icon_name=icon, order=order)
        )
    return items


@hooks.register("register_admin_menu_item")
def register_replies_menu():
    return RepliesMenuItem(
        _("Replies"), Menu(items=replies_menu_items()), name="replies", icon_name="comment", order=200
    )


@hooks.register("register_admin_viewset")
def register_removal_notices():
    return evidence_admin.removal_notice_viewset


# The mail outbox ------------------------------------------------------------------------------


@hooks.register("register_admin_urls")
def register_outbox_urls():
    outbox_urls = [
        path("", outbox_admin.OutboxView.as_view(), name="index"),
        path("sender/", outbox_admin.SenderSettingsView.as_view(), name="sender"),
    ]
    return [path("outbox/", include((outbox_urls, "speakout_outbox")))]


@hooks.register("register_settings_menu_item")
def register_outbox_menu_item():
    return ShownMenuItem(
        _("Mail outbox"),
        reverse_lazy("speakout_outbox:index"),
        shown=lambda request: outbox_admin.can_manage_outbox(request.user),
        name="mail-outbox",
        icon_name="mail",
        order=900,
    )


@hooks.register("register_settings_menu_item")
def register_sender_menu_item():
    return ShownMenuItem(
        _("Mail sender"),
        reverse_lazy("speakout_outbox:sender"),
        shown=lambda request: outbox_admin.can_edit_sender(request.user),
        name="mail-sender",
        icon_name="mail",
        order=901,
    )


# A report by email -----------------------------------------------------------------------------


@hooks.register("register_admin_urls")
def register_report_mail_urls():
    from .report_mail import ReportMailView

    return [path("reports/<int:page_id>/email/", ReportMailView.as_view(), name="speakout_report_mail")]


@hooks.register("register_page_header_buttons")
def report_mail_button(page, user, view_name, next_url=None):
    from wagtail.admin.widgets.button import Button

    from .models import ReportPage

    if isinstance(page.specific_deferred, ReportPage) and page.permissions_for_user(user).can_edit():
        yield Button(_("Send by email"), reverse("speakout_report_mail", args=[page.pk]), icon_name="mail", priority=80)


# The contact inbox ----------------------------------------------------------------------------


@hooks.register("register_admin_urls")
def register_contact_urls():
    return [path("contact/", include("speakout.contact.admin_urls"))]


@hooks.register("register_admin_menu_item")
def register_contact_menu_item():
    from speakout.contact import admin_views as contact_admin

    return ShownMenuItem(
        _("Contact messages"),
        reverse_lazy("speakout_contact:index"),
        shown=lambda request: contact_admin.can_view(request.user),
        count=lambda request: contact_admin.unread_count(),
        hide_zero=True,
        name="contact-messages",
        icon_name="mail",
        order=250,
    )


@hooks.register("before_serve_page")
def share_public_pages(page, request, serve_args, serve_kwargs):
    """A live page without view restrictions looks the same to every anonymous reader, so the
    page cache may keep it until the site's content (or, for a report, its thread) changes."""
    if capturing(request) is None or getattr(request, "is_preview", False):
        return None
    if not known_unrestricted(page):
        if page.get_view_restrictions().exists():
            return None
        mark_unrestricted(page)  # so the route remembered for it need not ask again
    thread_key = getattr(page, "thread_key", None)
    # Declared before the page reads its thread, so a reply arriving meanwhile retires the copy.
    share(request, *([thread_dependency(thread_key)] if thread_key else []))
    return None


# The moderator's dashboard ----------------------------------------------------------------------


@hooks.register("construct_homepage_panels")
def add_moderator_dashboard(request, panels):
    from .dashboard import ModeratorDashboardPanel, shows_dashboard

    if shows_dashboard(request):
        panels.insert(0, ModeratorDashboardPanel(request))


@hooks.register("insert_global_admin_css")
def moderation_css():
    """The moderation screens' and the dashboard's styles, and the sidebar's longer labels."""
    from django.templatetags.static import static
    from django.utils.html import format_html

    return format_html('<link rel="stylesheet" href="{}">', static("publishing/moderation.css"))
