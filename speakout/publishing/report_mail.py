"""The editor's "Send by email" screen of a report: a preview of the subscribers' mail, a test
send to the editor's own address, and the send itself.

A live, public report is mailed as published (its first publication already mails it; this
screen sends one that was not, such as a report published before anyone subscribed). A report
that is not live is sent **by email only**: its latest draft goes to the subscribers and it stays
off the site. Either way it is mailed once: the announcement keyed by the report remembers it.
Opens and clicks are never tracked (no pixel, no redirect, no per-reader address), and there is
no setting that would do it.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views import View
from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from speakout.outbox.services import queue_mail
from speakout.subscriptions import services as subscriptions
from speakout.subscriptions import wagtail as subscription_mail
from speakout.subscriptions.models import Announcement, Subscription

from .models import ReportPage


def test_address(user) -> str | None:
    """Where the editor's test goes: their own address once they proved it (allauth's verified
    addresses), never one merely typed on the account, which could be anyone's."""
    verified = subscriptions.verified_addresses(user)
    own = (user.email or "").strip()
    if own and own.lower() in verified:
        return own
    return verified[0] if verified else None


class ReportMailView(WagtailAdminTemplateMixin, View):
    template_name = "publishing/admin/report_mail.html"
    header_icon = "mail"
    page_title = gettext_lazy("Send by email")

    def dispatch(self, request, page_id: int, *args, **kwargs):
        page = get_object_or_404(ReportPage, pk=page_id)
        self.permissions = page.permissions_for_user(request.user)
        if not self.permissions.can_edit():
            raise PermissionDenied
        self.page = page
        self.draft = page.get_latest_revision_as_object()
        self.email_only = not page.live
        # What is mailed: the live report, or the latest draft when sent by email only.
        self.mailed = self.draft if self.email_only else page
        self.sent = Announcement.objects.filter(key=subscription_mail.announcement_key(page)).first()
        return super().dispatch(request, page_id, *args, **kwargs)

    def is_private(self) -> bool:
        # Behind a view restriction (its own or a section's), live or a draft: by email only, a
        # draft would go whole to every subscriber, past the password or group its readers need.
        return self.page.get_view_restrictions().exists()

    def get_page_subtitle(self):
        return self.page.title

    def content(self):
        return subscription_mail.announcement_for(self.mailed, email_only=self.email_only)

    def get(self, request, *args, **kwargs):
        announcement = self.sent or self.content()
        editor_email = test_address(request.user)
        preview = subscriptions.render_post_preview(
            announcement, email=editor_email or "editor@invalid.example", language=get_language() or ""
        )
        readers = subscriptions.posts_subscribers(announcement.categories)
        counts = {label: readers.filter(frequency=value).count() for value, label in Subscription.Frequency.choices}
        private = self.is_private()
        return self.render_to_response(
            self.get_context_data(
                report=self.page,
                preview=preview,
                counts=counts,
                total=sum(counts.values()),
                sent=self.sent,
                email_only=self.email_only,
                private=private,
                can_send=self.permissions.can_publish() and not self.sent and not private,
                editor_email=editor_email,
                unverified=bool(request.user.email) and not editor_email,
            )
        )

    def post(self, request, *args, **kwargs):
        here = reverse("speakout_report_mail", args=[self.page.pk])
        action = request.POST.get("action")
        if action == "test":
            address = test_address(request.user)
            if address is None:
                if request.user.email:
                    messages.error(
                        request,
                        _(
                            "Your email address is not verified yet, so no test was sent. Confirm it "
                            "from your account's email page, then try again."
                        ),
                    )
                else:
                    messages.error(request, _("Your account has no email address to send a test to."))
                return HttpResponseRedirect(here)
            mail = subscriptions.render_post_preview(self.content(), email=address, language=get_language() or "")
            mail["subject"] = (_("Test: %(subject)s") % {"subject": mail["subject"]})[:500]
            with transaction.atomic():
                queue_mail(**mail)
            messages.success(request, _("A test was sent to %(email)s.") % {"email": address})
        elif action == "send":
            if not self.permissions.can_publish():
                raise PermissionDenied
            if self.is_private():
                messages.error(request, _("A private report is not sent by email."))
            elif self.sent or subscription_mail.send_report(self.mailed, email_only=self.email_only) is None:
                messages.warning(request, _("This report was already sent by email."))
            else:
                messages.success(request, _("The report is being sent to its subscribers."))
        else:
            messages.error(request, _("Unknown action."))
        return HttpResponseRedirect(here)
