"""The one table of the privacy app: requests for a "manage my replies" link.

The link carries only this row's id and random secret, signed: never the address, which would
otherwise end up in browser histories and proxy logs. A row whose address is unknown is deleted
by the task that looked; the others are purged once their link has expired. A request whose task
was never queued (the queue failed after the commit) is taken up by the worker's sweep.
"""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def new_secret() -> str:
    return secrets.token_urlsafe(24)


class ManageRequest(models.Model):
    email = models.EmailField(_("email"), max_length=254)
    secret = models.CharField(max_length=64, default=new_secret, editable=False)
    language = models.CharField(max_length=35, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # When the task (or the sweep, for a request whose task was never queued) mailed the link.
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("request for a manage link")
        verbose_name_plural = _("requests for a manage link")
        # "Forget me" deletes an address's requests in any spelling of its case.
        indexes = [models.Index(Upper("email"), name="speakout_manage_email_upper")]

    def __str__(self) -> str:
        return f"#{self.pk}"
