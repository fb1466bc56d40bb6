"""Login providers in the Wagtail admin (Settings > Login providers): the only Wagtail module of
the identity app. Django's admin is not mounted, so staff manage allauth's SocialApps here; the
usual model permissions (socialaccount.add_socialapp...) decide who may."""

from allauth.socialaccount.models import SocialApp
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.viewsets.model import ModelViewSet

from .forms import SocialAppForm
from .receivers import mark_email_verified


class SocialAppViewSet(ModelViewSet):
    model = SocialApp
    form_class = SocialAppForm
    icon = "key"
    menu_label = _("Login providers")
    add_to_settings_menu = True
    name = "login-providers"
    list_display = ["name", "provider", "provider_id"]

    def get_form_class(self, for_update=False):
        return SocialAppForm


@hooks.register("register_admin_viewset")
def register_login_providers():
    return SocialAppViewSet()


@hooks.register("after_create_user")
@hooks.register("after_edit_user")
def vouch_for_email(request, user):
    """Staff typed this address for the person: it counts as verified for allauth."""
    mark_email_verified(user)
