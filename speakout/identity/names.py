"""Public names of accounts: a username shows on every reply the account writes."""

from __future__ import annotations

from allauth.account.forms import BaseSignupForm
from django import forms
from django.utils.translation import gettext_lazy as _

from speakout.discussion.forms import comparable_name, reserved_names


def gives_away_address(username: str, email: str) -> bool:
    """Whether the name is an address, or holds the local part of the account's address (folded
    as the reply form compares names), which would tie the public name to the mailbox."""
    if "@" in username:
        return True
    local_part = comparable_name(email.partition("@")[0])
    return len(local_part) >= 3 and local_part in comparable_name(username)


class PublicNameForm(BaseSignupForm):
    """The rules for a username typed into a sign-up form (site account, pseudonym, login
    provider): it is the account's public name, so never a staff member's name nor one that
    gives away the account's address. Put it before allauth's form among the bases."""

    address_error = _("This name gives away your email address. Please choose another.")

    def clean_username(self) -> str:
        username = super().clean_username()
        if comparable_name(username) in reserved_names():
            # The reply form's words: whose name it is stays unsaid (a staff member's real name).
            raise forms.ValidationError(_("That name cannot be used here. Please choose another."))
        return username

    def clean(self):
        cleaned = super().clean()
        username, email = cleaned.get("username", ""), cleaned.get("email", "")
        if username and gives_away_address(username, email):
            self.add_error("username", self.address_error)
        return cleaned
