"""The "Contact messages" inbox inside the Wagtail admin.

Registered by ``speakout/publishing/wagtail_hooks.py``. Names, addresses and messages are
visitors' text: the templates print them through autoescaping only, and the CSV export
neutralises cells a spreadsheet would run as formulas.
"""

from __future__ import annotations

import csv

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.views import View
from wagtail.admin import messages
from wagtail.admin.paginator import WagtailPaginator
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from speakout.spreadsheets import safe_cell

from . import services
from .models import ContactMessage

VIEW = "speakout_contact.view_contactmessage"
CHANGE = "speakout_contact.change_contactmessage"
DELETE = "speakout_contact.delete_contactmessage"
PER_PAGE = 50


def can_view(user) -> bool:
    return user.has_perm(VIEW)


def unread_count() -> int:
    return ContactMessage.objects.filter(read_at__isnull=True, archived=False, is_spam=False).count()


def folders() -> dict[str, dict]:
    messages_ = ContactMessage.objects.all()
    return {
        "inbox": {"label": _("Inbox"), "queryset": messages_.filter(archived=False, is_spam=False)},
        "archived": {"label": _("Archived"), "queryset": messages_.filter(archived=True, is_spam=False)},
        "spam": {"label": _("Spam"), "queryset": messages_.filter(is_spam=True)},
    }


def current_folder(request) -> str:
    folder = request.GET.get("folder", "inbox")
    return folder if folder in folders() else "inbox"


class _Headed(WagtailAdminTemplateMixin):
    """Screens headed by their own title, under "Contact messages" (not Wagtail's bare "Home"),
    for users with ``permission``."""

    permission = VIEW

    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perm(self.permission):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        trail = [{"url": reverse("speakout_contact:index"), "label": _("Contact messages")}]
        if str(self.get_page_title()) == str(trail[0]["label"]):
            trail = []
        return self.breadcrumbs_items + trail + [{"url": None, "label": self.get_page_title()}]


class InboxView(_Headed, View):
    template_name = "contact/admin/index.html"
    header_icon = "mail"
    page_title = _("Contact messages")

    def get(self, request, *args, **kwargs):
        all_folders = folders()
        current = current_folder(request)
        paginator = WagtailPaginator(all_folders[current]["queryset"], PER_PAGE)
        page = paginator.get_page(request.GET.get("p"))
        index = reverse("speakout_contact:index")
        context = self.get_context_data(
            folders=[
                {
                    "slug": slug,
                    "label": item["label"],
                    "count": item["queryset"].count(),
                    "url": f"{index}?folder={slug}",
                }
                for slug, item in all_folders.items()
            ],
            current=current,
            page=page,
            elided_page_range=list(paginator.get_elided_page_range(page.number)),
            contact_messages=list(page.object_list),
            can_change=request.user.has_perm(CHANGE),
            export_url=f"{reverse('speakout_contact:export')}?folder={current}",
        )
        return self.render_to_response(context)


class _OneMessage(_Headed, View):
    @cached_property
    def message(self) -> ContactMessage:
        # Looked up once the permission is checked: no 404 tells a stranger which messages exist.
        return get_object_or_404(ContactMessage, pk=self.kwargs["pk"])


# POST actions on one message that set fields: (the fields, what it says, back to the inbox).
_ACTIONS = {
    "unread": ({"read_at": None}, _("Marked as unread."), True),
    "archive": ({"archived": True}, _("Archived."), True),
    "unarchive": ({"archived": False}, _("Moved back to the inbox."), False),
}


class MessageView(_OneMessage):
    """One message. A GET only shows it: an <img> on another site or a link prefetcher must not
    mark it read and hide it from the team. POST opens it from the inbox (marking it read), marks
    it read or unread, archives or restores it."""

    template_name = "contact/admin/message.html"
    header_icon = "mail"
    page_title = _("Contact message")

    def get(self, request, *args, **kwargs):
        context = self.get_context_data(
            contact_message=self.message,
            reply_subject=_("Re: %(subject)s")
            % {"subject": services.subject_for(self.message.topic, self.message.message)},
            can_change=request.user.has_perm(CHANGE),
            can_delete=request.user.has_perm(DELETE),
            index_url=reverse("speakout_contact:index"),
        )
        return self.render_to_response(context)

    def post(self, request, *args, **kwargs):
        if not request.user.has_perm(CHANGE):
            raise PermissionDenied
        action = request.POST.get("action", "")
        index = reverse("speakout_contact:index")
        here = reverse("speakout_contact:message", args=[self.message.pk])
        if action in ("open", "read"):
            # The first reading stays: opening it again changes nothing.
            ContactMessage.objects.filter(pk=self.message.pk, read_at__isnull=True).update(read_at=timezone.now())
            if action == "read":
                messages.success(request, _("Marked as read."))
            return HttpResponseRedirect(here)
        if action in _ACTIONS:
            fields, said, to_index = _ACTIONS[action]
            ContactMessage.objects.filter(pk=self.message.pk).update(**fields)
            messages.success(request, said)
            if to_index:
                return HttpResponseRedirect(index)
        elif action == "release" and self.message.is_spam:
            services.release_held_message(self.message, inbox_url=request.build_absolute_uri(index))
            messages.success(request, _("Not spam: the message was passed on to the recipients."))
        return HttpResponseRedirect(here)


class DeleteView(_OneMessage):
    """Asks first (GET), deletes on POST."""

    template_name = "contact/admin/delete.html"
    header_icon = "bin"
    page_title = _("Delete contact message")
    permission = DELETE

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(contact_message=self.message))

    def post(self, request, *args, **kwargs):
        self.message.delete()
        messages.success(request, _("The message was deleted."))
        return HttpResponseRedirect(reverse("speakout_contact:index"))


def export_csv(request):
    """The listed folder's messages (all pages) as CSV."""
    if not can_view(request.user):
        raise PermissionDenied
    folder = current_folder(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="contact-messages-{folder}.csv"'
    writer = csv.writer(response, quoting=csv.QUOTE_ALL)
    writer.writerow(["received", "name", "email", "topic", "message", "read", "archived", "spam", "copy_requested"])
    for message in folders()[folder]["queryset"].iterator():
        writer.writerow(
            [
                message.created_at.isoformat(),
                safe_cell(message.name),
                safe_cell(message.email),
                safe_cell(message.topic),
                safe_cell(message.message),
                message.read_at.isoformat() if message.read_at else "",
                int(message.archived),
                int(message.is_spam),
                int(message.copy_requested),
            ]
        )
    return response
