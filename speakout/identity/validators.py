"""What a user name or pseudonym may hold (``ACCOUNT_USERNAME_VALIDATORS``).

Django's default refuses spaces, so "Night Owl" was refused; people name themselves with words.
Single spaces between words are allowed; leading, trailing and double spaces are not (two
names that differ only in spacing would look the same on a reply)."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

name_with_spaces = RegexValidator(
    r"^[\w.@+-]+( [\w.@+-]+)*\Z",
    message=_("Use letters, digits, single spaces between words and @ . + - _ only."),
    code="invalid",
)

username_validators = [name_with_spaces]
