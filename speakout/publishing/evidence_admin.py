"""The admin side of evidence holds (speakout.safety.evidence) and of the removal notices.

"Hold as evidence…" on each queue row opens a confirmation here that asks for a reason;
the Evidence screen lists the holds, checks the chain of seals, downloads bundles, checks a bundle
someone sends back, and releases holds. Holding and exporting need ``hold_evidence``, releasing
needs ``release_evidence`` (both besides the moderators' permission); superusers have both.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from wagtail.admin import messages
from wagtail.admin.viewsets.model import ModelViewSet

from speakout.discussion.models import Reply
from speakout.discussion.moderation import can_moderate, can_see_email, plain_text
from speakout.safety import evidence
from speakout.safety.models import EvidenceHold, RemovalNotice

from .moderation import ModerationView, paginate, read_reason

HOLD_PERMISSION = "speakout_safety.hold_evidence"
RELEASE_PERMISSION = "speakout_safety.release_evidence"
MAX_BUNDLE_BYTES = 20 * 1024 * 1024


def can_hold_evidence(user) -> bool:
    return can_moderate(user) and user.has_perm(HOLD_PERMISSION)


def can_release_evidence(user) -> bool:
    return can_moderate(user) and user.has_perm(RELEASE_PERMISSION)


class EvidenceView(ModerationView):
    def user_may_enter(self, user) -> bool:
        return can_hold_evidence(user)


class HoldView(EvidenceView):
    """GET asks first (what it does, and a reason); POST holds one reply as evidence, then goes
    back to the queue it was in. Holding takes a reply off the site at once: never one click."""

    template_name = "publishing/moderation/confirm_hold.html"
    header_icon = "lock"
    page_title = _("Hold as evidence")

    def back_url(self, request, data) -> str:
        back = data.get("next", "")
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            back = reverse("speakout_moderation:evidence")
        return back

    def get(self, request, *args, **kwargs):
        raw_id = request.GET.get("hold", "")
        reply = get_object_or_404(Reply, pk=int(raw_id)) if raw_id.isdigit() else None
        if reply is None:
            messages.error(request, _("Choose a reply to hold."))
            return HttpResponseRedirect(self.back_url(request, request.GET))
        return self.render_to_response(
            self.get_context_data(
                reply=reply,
                excerpt=Truncator(plain_text(reply.body_html)).chars(300),
                back=self.back_url(request, request.GET),
            )
        )

    def post(self, request, *args, **kwargs):
        raw_id = request.POST.get("hold", "")
        reply = get_object_or_404(Reply, pk=int(raw_id)) if raw_id.isdigit() else None
        if reply is None:
            messages.error(request, _("Choose a reply to hold."))
        elif not read_reason(request):
            messages.error(request, _("Give a reason for holding it: it is sealed with the evidence."))
            query = urlencode({"hold": reply.pk, "next": self.back_url(request, request.POST)})
            return HttpResponseRedirect(f"{reverse('speakout_moderation:evidence_hold')}?{query}")
        else:
            hold = evidence.hold_reply(reply, actor=request.user, reason=read_reason(request))
            messages.success(
                request,
                _("The reply is off the public site and sealed as evidence (SHA-256 %(digest)s).")
                % {"digest": hold.content_sha256},
            )
        return HttpResponseRedirect(self.back_url(request, request.POST))


class VerifyForm(forms.Form):
    bundle = forms.FileField(label=_("Evidence bundle (.zip)"))


class EvidenceListView(EvidenceView):
    """Every hold, newest first, with the result of re-checking the chain of seals."""

    template_name = "publishing/moderation/evidence.html"
    header_icon = "lock"
    page_title = _("Evidence")

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.context(VerifyForm()))

    def post(self, request, *args, **kwargs):
        """Check a bundle someone sends back against the seals stored here."""
        form = VerifyForm(request.POST, request.FILES)
        result = None
        if form.is_valid():
            upload = form.cleaned_data["bundle"]
            if upload.size > MAX_BUNDLE_BYTES:
                form.add_error("bundle", _("This file is too large to be an evidence bundle."))
            else:
                result = evidence.verify_bundle(upload.read())
        return self.render_to_response(self.context(form, bundle_result=result))

    def context(self, form, **extra):
        holds = EvidenceHold.objects.select_related("reply__thread", "held_by", "released_by")
        page, page_range = paginate(self.request, holds)
        return self.get_context_data(
            page=page,
            elided_page_range=page_range,
            holds=page.object_list,
            chain=evidence.verify_chain(),
            verify_form=form,
            can_release=can_release_evidence(self.request.user),
            can_export=can_see_email(self.request.user),
            current_tab="evidence",
            **extra,
        )


class BundleView(EvidenceView):
    """Download one hold's bundle (a zip). Not cached anywhere: it holds private data."""

    def get(self, request, pk, *args, **kwargs):
        # The sealed copy holds the author's address and cannot be redacted without breaking
        # its seal: exporting it takes the permission to see addresses too.
        if not can_see_email(request.user):
            raise PermissionDenied
        hold = get_object_or_404(EvidenceHold, pk=pk)
        if not hold.content:
            messages.error(request, _("The sealed copy of this released hold was deleted by the retention purge."))
            return HttpResponseRedirect(reverse("speakout_moderation:evidence"))
        response = HttpResponse(evidence.build_bundle(hold), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{evidence.bundle_name(hold)}"'
        add_never_cache_headers(response)
        return response


class ReleaseView(ModerationView):
    http_method_names = ["post"]

    def user_may_enter(self, user) -> bool:
        return can_release_evidence(user)

    def post(self, request, pk, *args, **kwargs):
        hold = get_object_or_404(EvidenceHold, pk=pk)
        if evidence.release_hold(hold, actor=request.user, reason=read_reason(request)):
            messages.success(request, _("The hold is released. The reply stays in the trash."))
        else:
            messages.warning(request, _("This hold was already released."))
        return HttpResponseRedirect(reverse("speakout_moderation:evidence"))


class RemovalNoticeViewSet(ModelViewSet):
    """The organisation's removal notices: list, add, edit, delete (the model's permissions)."""

    model = RemovalNotice
    icon = "mail"
    menu_label = _("Removal notices")
    add_to_admin_menu = False
    url_prefix = "removal-notices"
    name = "removal_notices"
    form_fields = ["title", "message", "sort_order"]
    list_display = ["title", "message", "sort_order"]


removal_notice_viewset = RemovalNoticeViewSet()
