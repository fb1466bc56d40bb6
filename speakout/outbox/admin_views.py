"""The "Mail outbox" screen inside the Wagtail admin.

Registered by ``speakout/publishing/wagtail_hooks.py``; this is the only outbox module that
imports Wagtail. Subjects, addresses and errors may hold user text: the template prints them
through autoescaping only.
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views import View
from wagtail.admin import messages
from wagtail.admin.paginator import WagtailPaginator
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from . import bounces, services
from .models import OutgoingMail, SenderSettings, Suppression, from_domain
from .sender import sender_address

PERMISSION = "speakout_outbox.change_outgoingmail"
PER_PAGE = 50
RECENTLY_SENT_DAYS = 7
Status = OutgoingMail.Status


def can_manage_outbox(user) -> bool:
    return user.is_active and (user.is_superuser or user.has_perm(PERMISSION))


def tabs() -> dict[str, dict]:
    recent = timezone.now() - timedelta(days=RECENTLY_SENT_DAYS)
    mails = OutgoingMail.objects.all()
    return {
        "waiting": {
            "label": _("Waiting"),
            "queryset": mails.filter(status__in=[Status.PENDING, Status.SENDING]).order_by("next_attempt_at", "pk"),
            "empty": _("No mail is waiting to be sent."),
        },
        "failed": {
            "label": _("Failed"),
            "queryset": mails.filter(status=Status.FAILED).order_by("-created_at", "-pk"),
            "empty": _("No mail has failed."),
        },
        "sent": {
            "label": _("Recently sent"),
            "queryset": mails.filter(status=Status.SENT, sent_at__gte=recent).order_by("-sent_at", "-pk"),
            "empty": _("No mail was sent in the last seven days."),
        },
        "suppressed": {
            "label": _("Suppressed addresses"),
            "queryset": Suppression.objects.order_by("-created_at", "-pk"),
            "empty": _("No address is suppressed."),
        },
    }


class OutboxView(WagtailAdminTemplateMixin, View):
    """Pending, failed and recently sent mail, with "Retry now" (single and bulk, by POST), and
    the suppressed addresses with their reason and "Lift"."""

    template_name = "outbox/admin/index.html"
    header_icon = "mail"
    page_title = _("Mail outbox")

    def dispatch(self, request, *args, **kwargs):
        if not can_manage_outbox(request.user):
            raise PermissionDenied
        self.tabs = tabs()
        self.current = request.GET.get("status", "waiting")
        if self.current not in self.tabs:
            self.current = "waiting"
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        tab = self.tabs[self.current]
        paginator = WagtailPaginator(tab["queryset"], PER_PAGE)
        page = paginator.get_page(request.GET.get("p"))
        context = self.get_context_data(
            tabs=[
                {
                    "slug": slug,
                    "label": item["label"],
                    "count": item["queryset"].count(),
                    "url": f"{reverse('speakout_outbox:index')}?status={slug}",
                }
                for slug, item in self.tabs.items()
            ],
            current=self.current,
            empty_message=tab["empty"],
            page=page,
            elided_page_range=list(paginator.get_elided_page_range(page.number)),
            mails=list(page.object_list) if self.current != "suppressed" else [],
            suppressions=list(page.object_list) if self.current == "suppressed" else [],
            can_retry=self.current in ("waiting", "failed"),
        )
        return self.render_to_response(context)

    def post(self, request, *args, **kwargs):
        if "lift" in request.POST:
            return self.lift(request)
        single = request.POST.get("retry", "")
        raw_ids = [single] if single else request.POST.getlist("ids")
        ids = {int(value) for value in raw_ids if value.isdigit()}
        if not ids:
            messages.warning(request, _("Select at least one mail."))
        else:
            count = services.retry_now(ids)
            messages.success(
                request,
                ngettext("%(count)d mail queued for sending.", "%(count)d mails queued for sending.", count)
                % {"count": count},
            )
        return HttpResponseRedirect(request.get_full_path())

    def lift(self, request):
        """Lift a suppression: mail goes to the address again. Its owner is told nothing."""
        value = request.POST.get("lift", "")
        count = bounces.lift([int(value)]) if value.isdigit() else 0
        if count:
            messages.success(request, _("The address will get mail again."))
        else:
            messages.warning(request, _("That address was not suppressed."))
        return HttpResponseRedirect(request.get_full_path())


# The sender ------------------------------------------------------------------------------------

SENDER_PERMISSION = "speakout_outbox.change_sendersettings"


def can_edit_sender(user) -> bool:
    return user.is_active and (user.is_superuser or user.has_perm(SENDER_PERMISSION))


class SenderSettingsForm(forms.ModelForm):
    class Meta:
        model = SenderSettings
        fields = ["name", "address"]


class SenderSettingsView(WagtailAdminTemplateMixin, View):
    """The name and address every mail is sent from (Settings → Mail sender)."""

    template_name = "outbox/admin/sender.html"
    header_icon = "mail"
    page_title = _("Mail sender")

    def dispatch(self, request, *args, **kwargs):
        if not can_edit_sender(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            domain=from_domain(), configured=settings.DEFAULT_FROM_EMAIL, current=sender_address(), **kwargs
        )

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(form=SenderSettingsForm(instance=SenderSettings.load())))

    def post(self, request, *args, **kwargs):
        form = SenderSettingsForm(request.POST, instance=SenderSettings.load())
        if form.is_valid():
            form.save()
            messages.success(request, _("Mail sender saved."))
            return HttpResponseRedirect(reverse("speakout_outbox:sender"))
        messages.error(request, _("The mail sender could not be saved. Please correct the errors."))
        return self.render_to_response(self.get_context_data(form=form))
