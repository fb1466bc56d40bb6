"""What the identity app keeps: which accounts were opened under a pseudonym.

The mark is made where "reply under a pseudonym" creates the account (``PseudonymSignupForm``)
and stays for the account's life: setting a password or linking a login provider later does not
make a pseudonym a member, and an account made without a password by staff or a command is not
a pseudonym. Apps that treat pseudonyms apart (the federation never sends their replies) ask
``is_pseudonym``."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PseudonymAccount(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="pseudonym_account"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Marked by the migration from the sign-up's traces, for accounts opened before the mark.
    inferred = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("pseudonymous account")
        verbose_name_plural = _("pseudonymous accounts")

    def __str__(self) -> str:
        return str(self.user)


def is_pseudonym(user: Any) -> bool:
    """Whether ``user`` was opened by "reply under a pseudonym"."""
    if user is None or not getattr(user, "pk", None):
        return False
    return PseudonymAccount.objects.filter(user_id=user.pk).exists()
