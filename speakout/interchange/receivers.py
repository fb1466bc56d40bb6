"""The interchange app's listeners to other apps' signals."""

from __future__ import annotations

from django.dispatch import receiver

from speakout.discussion.signals import reply_anonymised, reply_deleted

from .models import ExportCheck


@receiver(reply_anonymised, dispatch_uid="speakout.interchange.export_checks_forget")
@receiver(reply_deleted, dispatch_uid="speakout.interchange.export_checks_forget_deleted")
def forget_export_checks(**kwargs) -> None:
    """A check's report names the addresses WordPress would refuse: the writer of an anonymised
    or deleted reply may be one. The next check makes it again from what is left."""
    ExportCheck.objects.all().delete()
