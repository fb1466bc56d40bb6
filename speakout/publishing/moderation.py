"""The moderators' screens inside the Wagtail admin: reply queues, commenter history, the
moderation log and the discussion settings.

``wagtail_hooks.py`` registers the URLs and menu items. The queues, actions, search and rows are
the discussion's (``speakout.discussion.moderation``); this module shows them and adds what
needs the safety app (evidence, removal notices, bans by two moderators).

Everything a reader typed (names, websites, bodies, thread titles, reasons) reaches the
templates as plain text and is escaped there: no screen marks stored HTML as safe, and links are
only made from http(s) addresses.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views import View
from wagtail.admin import messages
from wagtail.admin.paginator import WagtailPaginator
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from speakout.discussion import services
from speakout.discussion.models import Commenter, DiscussionSettings, Flag, ModerationLogEntry, Reply
from speakout.discussion.moderation import (
    ACTIONS,
    DELETABLE_STATUSES,
    LOG_ACTION_LABELS,
    QUEUES,
    Action,
    can_edit_settings,
    can_moderate,
    can_see_email,
    email_proved,
    log_entries,
    log_rows,
    perform,
    queue_counts,
    reply_rows,
    search_replies,
    web_address,
)
from speakout.discussion.moderation import with_row_relations as _with_row_relations
from speakout.safety import care
from speakout.safety.models import PendingBan, RemovalNotice, SafetySettings
from speakout.subscriptions.services import outcome_subscription

PER_PAGE = 50
REASON_MAX_LENGTH = 500


def with_row_relations(replies: QuerySet[Reply]) -> QuerySet[Reply]:
    """Rows with the safety app's assessment (spam score, personal data) of each reply."""
    return _with_row_relations(replies, "safety_assessment")


def pending_ban_count(request) -> int:
    """Bans one moderator asked for and another has yet to confirm (kept on the request, as the
    menu and the tabs both show it)."""
    if not hasattr(request, "_speakout_pending_bans"):
        request._speakout_pending_bans = PendingBan.objects.count()
    return request._speakout_pending_bans


def shows_pending_bans(request) -> bool:
    """The list is offered while the setting asks for two moderators, or while bans still wait."""
    return SafetySettings.load().ban_needs_confirmation or pending_ban_count(request) > 0


def paginate(request, items):
    paginator = WagtailPaginator(items, PER_PAGE)
    page = paginator.get_page(request.GET.get("p"))
    return page, list(paginator.get_elided_page_range(page.number))


def read_reason(request) -> str:
    return " ".join(request.POST.get("reason", "").split())[:REASON_MAX_LENGTH]


# Views ----------------------------------------------------------------------------------------


class ModerationView(WagtailAdminTemplateMixin, View):
    """Base of the screens here: Wagtail's admin furniture plus the moderators' permission.

    Wagtail's admin URLs already require admin access; a PermissionDenied raised here becomes
    Wagtail's usual "you do not have permission" redirect."""

    header_icon = "comment"

    def user_may_enter(self, user) -> bool:
        return can_moderate(user)

    def dispatch(self, request, *args, **kwargs):
        if not self.user_may_enter(request.user):
            raise PermissionDenied
        self.prepare(**kwargs)
        return super().dispatch(request, *args, **kwargs)

    def prepare(self, **kwargs) -> None:
        """Load what the screen is about, once the user may see it (override)."""

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse("speakout_moderation:queue", args=["pending"]), "label": _("Replies")},
            {"url": None, "label": self.get_page_title()},
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        counts = queue_counts(self.request)
        context["queues"] = [
            {"queue": queue, "count": counts[slug], "url": reverse("speakout_moderation:queue", args=[slug])}
            for slug, queue in QUEUES.items()
        ]
        context["show_email"] = can_see_email(self.request.user)
        context["can_edit_settings"] = can_edit_settings(self.request.user)
        context["blur"] = SafetySettings.load().blur_held_content
        context["can_hold_evidence"] = self.request.user.has_perm("speakout_safety.hold_evidence")
        if shows_pending_bans(self.request):
            context["pending_bans"] = pending_ban_count(self.request)
        return context


class QueueView(ModerationView):
    """One queue of replies: search, pagination, and bulk or single actions by POST."""

    template_name = "publishing/moderation/queue.html"

    def prepare(self, **kwargs) -> None:
        self.queue = QUEUES.get(kwargs.get("queue", "pending"))
        if self.queue is None:
            raise Http404

    def get_page_title(self):
        return self.queue.label

    def get(self, request, *args, **kwargs):
        query = request.GET.get("q", "").strip()
        replies = search_replies(self.queue.queryset(), query, include_email=can_see_email(request.user)).order_by(
            "-created_at", "-pk"
        )
        page, page_range = paginate(request, with_row_relations(replies))
        context = self.get_context_data(
            queue=self.queue,
            query=query,
            page=page,
            elided_page_range=page_range,
            rows=reply_rows(page.object_list, request.user),
            actions=self.queue.available_actions,
            notices=list(RemovalNotice.objects.all()),
        )
        return self.render_to_response(context)

    def post(self, request, *args, **kwargs):
        single = request.POST.get("single", "")
        if single:
            # A row's own button: "<action>:<reply id>".
            action_name, _sep, raw_id = single.partition(":")
            raw_ids = [raw_id]
        else:
            action_name = request.POST.get("action", "")
            raw_ids = request.POST.getlist("ids")
        action = ACTIONS.get(action_name)
        if action is None or action.name not in self.queue.actions:
            messages.error(request, _("That action is not available here."))
            return self.back()
        ids = {int(value) for value in raw_ids if value.isdigit()}
        if not ids:
            messages.warning(request, _("Select at least one reply."))
            return self.back()
        # Only replies still in this queue: another moderator may have moved some meanwhile.
        replies = list(self.queue.queryset().filter(pk__in=ids).select_related("thread").order_by("pk"))
        skipped = len(ids) - len(replies)
        reason = read_reason(request)

        if action.destructive:
            replies = [reply for reply in replies if reply.status in DELETABLE_STATUSES]
            if request.POST.get("confirm") != "yes":
                return self.confirm_delete(replies, reason)

        notice = self.chosen_notice(action)
        done = notices_sent = 0
        for reply in replies:
            # The notice goes with the decision, and only to a writer who asked to be told at a
            # proven address (speakout.subscriptions listens to reply_moderated).
            changed = perform(action, reply, actor=request.user, reason=reason, notice=notice.message if notice else "")
            if notice is not None and changed is not None and outcome_subscription(changed) is not None:
                notices_sent += 1
            done += 1

        if done:
            messages.success(request, self.done_message(action, done))
        if notices_sent:
            messages.success(
                request,
                ngettext(
                    "A notice is on its way to %(count)d commenter.",
                    "Notices are on their way to %(count)d commenters.",
                    notices_sent,
                )
                % {"count": notices_sent},
            )
        if skipped:
            messages.warning(
                request,
                ngettext(
                    "%(count)d reply was skipped: it is no longer in this queue.",
                    "%(count)d replies were skipped: they are no longer in this queue.",
                    skipped,
                )
                % {"count": skipped},
            )
        return self.back()

    def chosen_notice(self, action: Action) -> RemovalNotice | None:
        """The removal notice to send, if the moderator ticked the box and the action removes."""
        if not action.removes or self.request.POST.get("notify") != "yes":
            return None
        raw_id = self.request.POST.get("notice", "")
        return RemovalNotice.objects.filter(pk=int(raw_id)).first() if raw_id.isdigit() else None

    def done_message(self, action: Action, count: int) -> str:
        templates = {
            "approve": ngettext("%(count)d reply approved.", "%(count)d replies approved.", count),
            "pending": ngettext("%(count)d reply held for review.", "%(count)d replies held for review.", count),
            "dismiss": ngettext(
                "Reports dismissed on %(count)d reply.", "Reports dismissed on %(count)d replies.", count
            ),
            "spam": ngettext("%(count)d reply marked as spam.", "%(count)d replies marked as spam.", count),
            "trash": ngettext("%(count)d reply moved to trash.", "%(count)d replies moved to trash.", count),
            "delete": ngettext("%(count)d reply deleted permanently.", "%(count)d replies deleted permanently.", count),
        }
        return templates[action.name] % {"count": count}

    def confirm_delete(self, replies: list[Reply], reason: str):
        replies = with_row_relations(Reply.objects.filter(pk__in=[reply.pk for reply in replies]))
        context = self.get_context_data(
            queue=self.queue,
            rows=reply_rows(replies.order_by("-created_at", "-pk")),
            reason=reason,
            back_url=self.back_url(),
        )
        self.template_name = "publishing/moderation/confirm_delete.html"
        return self.render_to_response(context)

    def back_url(self) -> str:
        # The form posts to the listing's own address, query string (search, page) included.
        return self.request.get_full_path()

    def back(self):
        return HttpResponseRedirect(self.back_url())


class BanForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=REASON_MAX_LENGTH, required=False)


class CommenterView(ModerationView):
    """One commenter: their replies across threads, their standing, ban and unban, their log."""

    template_name = "publishing/moderation/commenter.html"
    header_icon = "user"
    page_title = _("Commenter history")

    def prepare(self, **kwargs) -> None:
        self.commenter = get_object_or_404(Commenter, pk=kwargs["pk"])

    def get_page_subtitle(self):
        return self.commenter.handle

    def get(self, request, *args, **kwargs):
        replies = with_row_relations(self.commenter.replies.order_by("-created_at", "-pk"))
        page, page_range = paginate(request, replies)
        by_status = dict(self.commenter.replies.order_by().values_list("status").annotate(count=Count("pk")))
        context = self.get_context_data(
            commenter=self.commenter,
            reports_received=Flag.objects.filter(reply__commenter=self.commenter).count(),
            email_proved=email_proved(self.commenter),
            website=web_address(self.commenter.website),
            status_counts=[{"label": label, "count": by_status.get(value, 0)} for value, label in Reply.Status.choices],
            page=page,
            elided_page_range=page_range,
            rows=reply_rows(page.object_list),
            log=log_rows(log_entries().filter(commenter=self.commenter)[:PER_PAGE]),
            ban_form=BanForm(),
            pending_ban=PendingBan.objects.filter(commenter=self.commenter).select_related("requested_by").first(),
            ban_needs_confirmation=SafetySettings.load().ban_needs_confirmation,
        )
        return self.render_to_response(context)

    def post(self, request, *args, **kwargs):
        reason = read_reason(request)
        action = request.POST.get("action")
        if action == "ban" and not reason:
            messages.error(request, _("Give a reason for the ban: it is kept in the moderation log."))
        elif action == "ban":
            if care.request_ban(self.commenter, actor=request.user, reason=reason) == care.BANNED:
                messages.success(request, _("The commenter is banned."))
            else:
                messages.success(request, _("The ban waits for another moderator to confirm it."))
        elif action == "confirm_ban":
            outcome = care.confirm_ban(self.commenter, actor=request.user)
            if outcome == care.BANNED:
                messages.success(request, _("The commenter is banned."))
            elif outcome == care.OWN_REQUEST:
                messages.error(request, _("Another moderator must confirm the ban you asked for."))
            else:
                messages.warning(request, _("No ban is waiting for confirmation."))
        elif action == "withdraw_ban":
            care.withdraw_ban(self.commenter, actor=request.user, reason=reason)
            messages.success(request, _("The ban request is withdrawn."))
        elif action == "unban":
            services.unban_commenter(self.commenter, actor=request.user, reason=reason)
            messages.success(request, _("The commenter is no longer banned."))
        else:
            messages.error(request, _("That action is not available here."))
        return HttpResponseRedirect(reverse("speakout_moderation:commenter", args=[self.commenter.pk]))


class PendingBansView(ModerationView):
    """Bans waiting for a second moderator, oldest first: each links to the commenter's history,
    where a moderator other than the one who asked confirms or withdraws it."""

    template_name = "publishing/moderation/pending_bans.html"
    header_icon = "warning"
    page_title = _("Bans to confirm")

    def get(self, request, *args, **kwargs):
        bans = PendingBan.objects.select_related("commenter", "requested_by").order_by("requested_at", "pk")
        page, page_range = paginate(request, bans)
        context = self.get_context_data(
            page=page,
            elided_page_range=page_range,
            bans=page.object_list,
            ban_needs_confirmation=SafetySettings.load().ban_needs_confirmation,
        )
        return self.render_to_response(context)


class LogFilterForm(forms.Form):
    """The decision log's filters (all optional, combined)."""

    actor = forms.ModelChoiceField(label=_("Who"), queryset=get_user_model().objects.none(), required=False)
    action = forms.ChoiceField(label=_("Action"), required=False)
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("Reason contains"), required=False, max_length=100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        actors = ModerationLogEntry.objects.filter(actor__isnull=False).values("actor")
        self.fields["actor"].queryset = get_user_model().objects.filter(pk__in=actors).order_by("username")
        self.fields["actor"].label_from_instance = lambda user: user.get_full_name() or user.get_username()
        self.fields["action"].choices = [("", _("Any")), *LOG_ACTION_LABELS.items()]

    def filter(self, entries: QuerySet[ModerationLogEntry]) -> QuerySet[ModerationLogEntry]:
        if not self.is_valid():
            return entries
        data = self.cleaned_data
        if data["actor"]:
            entries = entries.filter(actor=data["actor"])
        if data["action"]:
            # The status changes are logged under the status name ("approved" for approve).
            entries = entries.filter(action=data["action"])
        if data["since"]:
            entries = entries.filter(created_at__date__gte=data["since"])
        if data["until"]:
            entries = entries.filter(created_at__date__lte=data["until"])
        if data["reason"].strip():
            entries = entries.filter(reason__icontains=data["reason"].strip())
        return entries


class LogView(ModerationView):
    """The decision log: every moderation decision (who, what, when, why), newest first, filterable."""

    template_name = "publishing/moderation/log.html"
    header_icon = "history"
    page_title = _("Moderation log")

    def get(self, request, *args, **kwargs):
        filters = LogFilterForm(request.GET or None)
        page, page_range = paginate(request, filters.filter(log_entries()))
        context = self.get_context_data(
            page=page,
            elided_page_range=page_range,
            log=log_rows(page.object_list),
            filters=filters,
            filtered=filters.is_bound and filters.is_valid() and any(filters.cleaned_data.values()),
        )
        return self.render_to_response(context)


class SettingsView(ModerationView):
    """One settings row (``model.load()``) as a form."""

    template_name = "publishing/moderation/settings.html"
    model: type[DiscussionSettings] | type[SafetySettings]
    fields: list[str]
    saved_message = ""
    url_name = ""
    current_tab = "settings"

    def user_may_enter(self, user) -> bool:
        return can_edit_settings(user)

    def get(self, request, *args, **kwargs):
        return self.show(self.form())

    def post(self, request, *args, **kwargs):
        form = self.form(request.POST)
        if form.is_valid():
            form.save()
            messages.success(request, self.saved_message)
            return HttpResponseRedirect(reverse(self.url_name))
        messages.error(request, _("The settings could not be saved. Please correct the errors."))
        return self.show(form)

    def form(self, data=None) -> forms.ModelForm:
        return forms.modelform_factory(self.model, fields=self.fields)(data, instance=self.model.load())

    def show(self, form: forms.ModelForm):
        return self.render_to_response(self.get_context_data(form=form, current_tab=self.current_tab))


class DiscussionSettingsView(SettingsView):
    model = DiscussionSettings
    fields = [
        "require_name_email",
        "hold_first_reply",
        "hold_link_count",
        "hold_words",
        "block_words",
        "auto_close_days",
        "max_depth",
        "edit_window_minutes",
        "replies_per_page",
        "newest_first",
        "moderator_alerts",
    ]
    page_title = _("Discussion settings")
    header_icon = "cog"
    saved_message = _("Discussion settings saved.")
    url_name = "speakout_moderation:settings"


class SafetySettingsView(SettingsView):
    """The safety app's row (personal-data guard, protected names, spam filter)."""

    model = SafetySettings
    fields = [
        "personal_data_guard",
        "protected_names",
        "spam_filter",
        "spam_hold_score",
        "spam_score",
        "blur_held_content",
        "ban_needs_confirmation",
        "pile_on_replies",
        "pile_on_minutes",
    ]
    page_title = _("Safety settings")
    header_icon = "warning"
    saved_message = _("Safety settings saved.")
    url_name = "speakout_moderation:safety"
    current_tab = "safety"
