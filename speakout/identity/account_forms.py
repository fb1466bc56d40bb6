"""Allauth's account forms with labels in the site's voice (sentence case, plain words).

Chosen by ``ACCOUNT_FORMS`` and ``SOCIALACCOUNT_FORMS`` in settings; behaviour is allauth's,
except that a username is checked as a public name (``names.PublicNameForm``)."""

from __future__ import annotations

from allauth.account import forms as allauth_forms
from allauth.socialaccount import forms as social_forms
from django.utils.translation import gettext_lazy as _

from .names import PublicNameForm

PASSWORD_AGAIN = _("Password again")
NEW_PASSWORD = _("New password")
NEW_PASSWORD_AGAIN = _("New password again")


class _Relabelled:
    labels: dict = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label in self.labels.items():
            if name in self.fields:
                self.fields[name].label = label


class LoginForm(_Relabelled, allauth_forms.LoginForm):
    labels = {"remember": _("Keep me signed in on this device")}


class SignupForm(PublicNameForm, _Relabelled, allauth_forms.SignupForm):
    labels = {"password2": PASSWORD_AGAIN, "email2": _("Email again")}


class ProviderSignupForm(PublicNameForm, _Relabelled, social_forms.SignupForm):
    """A sign-up through a login provider asks for the public name; nothing the provider sent
    fills it in (``SocialAccountAdapter.populate_user``)."""

    labels = {"username": _("Name shown on your replies")}
    field_order = ["username", "email"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].help_text = _("Any name you like: it need not be your real name.")
        self.fields["username"].widget.attrs.pop("placeholder")
        self.fields["username"].widget.attrs["autocomplete"] = "nickname"
        self.fields["email"].help_text = _("Never shown to readers.")


class ChangePasswordForm(_Relabelled, allauth_forms.ChangePasswordForm):
    labels = {"oldpassword": _("Current password"), "password1": NEW_PASSWORD, "password2": NEW_PASSWORD_AGAIN}


class SetPasswordForm(_Relabelled, allauth_forms.SetPasswordForm):
    labels = {"password2": PASSWORD_AGAIN}


class ResetPasswordKeyForm(_Relabelled, allauth_forms.ResetPasswordKeyForm):
    labels = {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD_AGAIN}
