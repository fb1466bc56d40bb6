"""The Fediverse in the moderation queue: a "Fediverse" tab of the replies that came from it
(waiting or published), and beside each one "Block domain…", which adds the actor's server to
Settings → Federation's blocked domains after the moderator confirms.

Approve and remove are the queue's own actions; banning the actor is the commenter's ban (an
actor's replies are filed under one commenter record)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views import View
from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from speakout.discussion.models import Reply
from speakout.discussion.moderation import ACTIONS, Queue, RowLink, can_moderate, perform

from .models import FederatedReply, FederationSettings
from .urls_helpers import registrable_domain

SETTINGS_PERMISSION = "speakout_federation.change_federationsettings"
#: A server's name as stored for a remote actor (lowercase; IDNs in their ASCII form).
HOSTNAME = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+")


def from_the_fediverse() -> Q:
    return Q(federated__isnull=False, federated__outgoing=False)


QUEUE = Queue(
    "fediverse",
    _("Fediverse"),
    ("approve", "trash"),
    _("No reply from the Fediverse is waiting or published."),
    only=from_the_fediverse,
)


def can_block(user: Any) -> bool:
    return can_moderate(user) and bool(user.has_perm(SETTINGS_PERMISSION))


def row_links(replies: Sequence[Reply], user: Any) -> dict[int, list[RowLink]]:
    if not can_block(user):
        return {}
    config = FederationSettings.load()
    rows = FederatedReply.objects.filter(reply_id__in=[reply.pk for reply in replies], outgoing=False).exclude(
        actor=None
    )
    links: dict[int, list[RowLink]] = {}
    for reply_id, actor_url in rows.values_list("reply_id", "actor__url"):
        # The registrable domain: a block of a.evil.example alone would leave b.evil.example open.
        domain = registrable_domain(actor_url)
        if domain and not config.is_blocked(f"https://{domain}/"):
            url = reverse("federation_admin:block_domain") + "?" + urlencode({"domain": domain})
            links[reply_id] = [RowLink(str(_("Block domain…")), url)]
    return links


def add_blocked_domain(domain: str) -> bool:
    """Add ``domain`` to the blocked domains; False if it was blocked already."""
    with transaction.atomic():
        config = FederationSettings.objects.select_for_update().get(pk=FederationSettings.load().pk)
        if config.is_blocked(f"https://{domain}/"):
            return False
        config.blocked_domains = "\n".join([*config.domain_list(), domain])
        config.save()
    return True


class BlockDomainView(WagtailAdminTemplateMixin, View):
    """Confirm, then block a server: everything from it is refused from then on."""

    template_name = "federation/admin/block_domain.html"
    header_icon = "globe"
    page_title = _("Block a Fediverse server")

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        if not can_block(request.user):
            raise PermissionDenied
        self.domain = (request.POST.get("domain") or request.GET.get("domain") or "").strip().lower()
        return super().dispatch(request, *args, **kwargs)

    def back_url(self) -> str:
        wanted = self.request.POST.get("next") or self.request.GET.get("next") or ""
        if wanted and url_has_allowed_host_and_scheme(wanted, {self.request.get_host()}):
            return wanted
        return reverse("speakout_moderation:queue", args=[QUEUE.slug])

    def waiting(self) -> Any:
        # Every name under the blocked domain, as the block refuses them all.
        on_domain = Q(federated__actor__domain=self.domain) | Q(federated__actor__domain__endswith="." + self.domain)
        return Reply.objects.filter(from_the_fediverse(), on_domain, status=Reply.Status.PENDING)

    def get(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        context = self.get_context_data(domain=self.domain, waiting=self.waiting().count(), back=self.back_url())
        return self.render_to_response(context)

    def post(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        if not HOSTNAME.fullmatch(self.domain):
            messages.error(request, _("That is not a server's name."))
        elif add_blocked_domain(self.domain):
            messages.success(request, _("%(domain)s is blocked.") % {"domain": self.domain})
            if request.POST.get("trash_waiting") == "yes":
                reason = _("Its server was blocked.")
                for reply in self.waiting().select_related("thread"):
                    perform(ACTIONS["trash"], reply, actor=request.user, reason=str(reason))
        else:
            messages.warning(request, _("%(domain)s was blocked already.") % {"domain": self.domain})
        return HttpResponseRedirect(self.back_url())
