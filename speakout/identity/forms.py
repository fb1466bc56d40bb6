"""The pseudonym sign-up form, and the admin form for a login provider (an allauth SocialApp)."""

from __future__ import annotations

from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers import registry
from django import forms
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from .models import PseudonymAccount
from .names import PublicNameForm


def provider_choices() -> list[tuple[str, str]]:
    return sorted((provider_class.id, provider_class.name) for provider_class in registry.get_class_list())


class SocialAppForm(forms.ModelForm):
    """Provider keys are data, entered by staff here, never written in settings or code."""

    provider = forms.ChoiceField(label=_("Provider"), choices=provider_choices)
    secret = forms.CharField(
        label=_("Client secret"),
        required=False,
        widget=forms.PasswordInput(render_value=True, attrs={"autocomplete": "off"}),
    )

    class Meta:
        model = SocialApp
        fields = ["provider", "provider_id", "name", "client_id", "secret", "key", "settings"]
        help_texts = {
            "provider_id": _(
                "For OpenID Connect: a short identifier of your choice (letters, digits, hyphens), "
                "used in the callback address /accounts/oidc/<identifier>/login/callback/."
            ),
            "name": _("Shown to readers next to the provider's icon."),
            "settings": _(
                'For OpenID Connect: {"server_url": "https://id.example.org"} (the address before '
                "/.well-known/openid-configuration). Leave {} for the others."
            ),
        }

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("provider") == "openid_connect":
            provider_id = cleaned.get("provider_id", "")
            if not provider_id or not all(char.isalnum() or char in "-_" for char in provider_id):
                self.add_error(
                    "provider_id", _("Give a short identifier (letters, digits, hyphens) for this OpenID provider.")
                )
            server_url = (cleaned.get("settings") or {}).get("server_url", "")
            if not isinstance(server_url, str) or not server_url.startswith(("https://", "http://")):
                self.add_error("settings", _('Give the provider\'s address as {"server_url": "https://…"}.'))
        return cleaned


class PseudonymSignupForm(PublicNameForm):
    """A pseudonym and an email address, no password: allauth's sign-up without its password
    fields. The address is proved by allauth's verification link and never shown; later
    sign-ins are by a code mailed to it (``ACCOUNT_LOGIN_BY_CODE_ENABLED``)."""

    field_order = ["username", "email"]
    address_error = _("This pseudonym gives away your email address. Please choose another.")
    by_passkey = False  # allauth's sign-up view asks (passkey sign-ups are another flow)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("Pseudonym")
        self.fields["username"].help_text = _(
            "The only name readers will see: letters, digits, spaces and . + - _. "
            "Choose one that does not identify you."
        )
        self.fields["username"].widget.attrs.update({"placeholder": _("Pseudonym"), "autocomplete": "nickname"})
        self.fields["email"].help_text = _(
            "Never shown to readers. We mail you a link to prove it is yours, once; later you sign in with a "
            "code mailed to it."
        )

    def save(self, request):
        # The mark goes with the account, in one transaction: never an unmarked pseudonym.
        with transaction.atomic():
            user = super().save(request)
            PseudonymAccount.objects.create(user=user)
        return user
