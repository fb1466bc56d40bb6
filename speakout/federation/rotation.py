"""Rotating the site actor's key from the admin: Settings → Federation shows a "Rotate the key…"
button, which leads to this confirmation page; its POST runs the same rotation as
``speakout federation rotate-key`` (``keys.rotate_and_announce``). Only staff who may change the
federation settings may rotate."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views import View
from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from . import delivery, keys
from .models import ActorKey
from .moderation import SETTINGS_PERMISSION


def settings_url() -> str:
    return reverse("wagtailsettings:edit", args=["speakout_federation", "federationsettings"])


class RotateKeyView(WagtailAdminTemplateMixin, View):
    template_name = "federation/admin/rotate_key.html"
    header_icon = "key"
    page_title = _("Rotate the Fediverse key")

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        if not request.user.has_perm(SETTINGS_PERMISSION):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        context = self.get_context_data(
            key=keys.current(), servers=len(delivery.follower_inboxes()), back=settings_url()
        )
        return self.render_to_response(context)

    def post(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        # The form names the key it replaces; a double click or a resent form names one already
        # retired, and must not rotate again. The row lock makes two racing POSTs wait in turn.
        with transaction.atomic():
            key = ActorKey.objects.select_for_update().filter(retired_at__isnull=True).first()
            if key is None or request.POST.get("key") != str(key.pk):
                messages.warning(request, _("The key was just rotated; nothing changed."))
                return HttpResponseRedirect(settings_url())
            _key, told = keys.rotate_and_announce(by=request.user)
        messages.success(
            request,
            ngettext(
                "A new key is in use. Its announcement goes to %(count)s follower's server.",
                "A new key is in use. Its announcement goes to %(count)s followers' servers.",
                told,
            )
            % {"count": told},
        )
        return HttpResponseRedirect(settings_url())
