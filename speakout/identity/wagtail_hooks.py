"""The identity app in the Wagtail admin, its only Wagtail module. Django's admin is not mounted,
so staff manage allauth's SocialApps here (Settings > Login providers; the usual model
permissions, socialaccount.add_socialapp..., decide who may), and remove the mark "reply under a
pseudonym" left on an account (Settings > Pseudonymous accounts; the permission "Can delete
pseudonymous account")."""

from typing import Any

from allauth.socialaccount.models import SocialApp
from django.urls import path
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.views.generic import DeleteView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from .forms import SocialAppForm
from .models import PseudonymAccount
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


class RemoveMarkOnlyPolicy(ModelPermissionPolicy):
    """A mark is made only by the sign-up (or the migration): staff may list the marks and remove
    one, both with the delete permission, never add or change one."""

    def user_has_permission(self, user: Any, action: str) -> bool:
        return action in ("view", "delete") and super().user_has_permission(user, "delete")


register_permission_policy(PseudonymAccount, RemoveMarkOnlyPolicy(PseudonymAccount))


class RemoveMarkView(DeleteView):
    """Wagtail's delete, worded for what it does: the account stays, only the mark goes."""

    template_name = "identity/admin/remove_pseudonym_mark.html"
    page_title = _("Remove the pseudonym mark")
    success_message = _("The pseudonym mark of '%(object)s' was removed.")

    def get_usage_url(self) -> None:
        return None  # nothing refers to a mark

    def get_success_message(self) -> str:
        # The mark's key is its account's: once deleted it no longer reaches the account's name.
        return self.success_message % {"object": self.account}

    def setup(self, request: Any, *args: Any, **kwargs: Any) -> None:
        super().setup(request, *args, **kwargs)
        self.account = str(self.object)

    @property
    def confirmation_message(self) -> str:
        return _(
            "Remove the pseudonym mark from the account '%(account)s'? The account and its replies stay. "
            "Without the mark, its owner may send their replies to the Fediverse once they have a "
            "verified address, as members do."
        ) % {"account": self.object}


class PseudonymAccountViewSet(ModelViewSet):
    model = PseudonymAccount
    icon = "user"
    menu_label = _("Pseudonymous accounts")
    add_to_settings_menu = True
    name = "pseudonymous-accounts"
    list_display = ["user", "created_at", "inferred"]
    list_filter = ["inferred"]
    delete_view_class = RemoveMarkView
    copy_view_enabled = False

    def get_urlpatterns(self) -> list[Any]:
        return [
            path("", self.index_view, name="index"),
            path("results/", self.index_results_view, name="index_results"),
            path("delete/<str:pk>/", self.delete_view, name="delete"),
        ]


@hooks.register("register_admin_viewset")
def register_pseudonymous_accounts():
    return PseudonymAccountViewSet()


@hooks.register("after_create_user")
@hooks.register("after_edit_user")
def vouch_for_email(request, user):
    """Staff typed this address for the person: it counts as verified for allauth."""
    mark_email_verified(user)
