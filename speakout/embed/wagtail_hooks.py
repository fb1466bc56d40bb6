"""The allow-list's screen in the Wagtail admin (Settings → Allowed origins).

Wagtail loads this module only where Wagtail is installed; the rest of the embed app never
imports Wagtail, so the widget also runs beside the discussion in a project without it.
"""

from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.viewsets.model import ModelViewSet

from .models import AllowedOrigin


class AllowedOriginViewSet(ModelViewSet):
    model = AllowedOrigin
    icon = "globe"
    menu_label = _("Allowed origins")
    add_to_settings_menu = True
    form_fields = ["origin", "key_prefix", "note", "is_active"]
    list_display = ["origin", "key_prefix", "note", "is_active"]
    search_fields = ["origin", "note"]


@hooks.register("register_admin_viewset")
def register_allowed_origins():
    return AllowedOriginViewSet("embed_origins")
