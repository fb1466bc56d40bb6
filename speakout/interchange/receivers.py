"""The interchange app's listeners to other apps' signals."""

from __future__ import annotations

import json
import re

from django.dispatch import receiver
from wagtail.signals import page_published

from speakout.discussion.signals import reply_anonymised, reply_deleted

from .media import PRIVATE_COLLECTION
from .models import ExportCheck

# A document of this site in a page's text (as JSON): the link an import writes
# (``href="/documents/ID/name"``, a path on this site) or the one Wagtail's editor makes.
_DOCUMENT_LINK = re.compile(
    r'href=\\"/documents/(\d+)/|linktype=\\"document\\" id=\\"(\d+)|id=\\"(\d+)\\" linktype=\\"document'
)


@receiver(reply_anonymised, dispatch_uid="speakout.interchange.export_checks_forget")
@receiver(reply_deleted, dispatch_uid="speakout.interchange.export_checks_forget_deleted")
def forget_export_checks(**kwargs) -> None:
    """A check's report names the addresses WordPress would refuse: the writer of an anonymised
    or deleted reply may be one. The next check makes it again from what is left."""
    ExportCheck.objects.all().delete()


@receiver(page_published, dispatch_uid="speakout.interchange.release_imported_files")
def release_imported_files(sender, instance, **kwargs) -> None:
    """An imported draft's documents were kept in "Imported, not public" because nobody outside
    read the draft: once it is published here, the ones its text links to move to the public
    collection, so its readers can open them (unless the page itself is restricted). Pictures
    there are already served by address."""
    from wagtail.documents import get_document_model
    from wagtail.models import Collection

    body = getattr(instance, "body", None)
    # Behind a password or a sign-in (its own or an ancestor's), its documents stay private.
    if body is None or instance.get_view_restrictions().exists():
        return
    found = _DOCUMENT_LINK.findall(json.dumps(body.get_prep_value(), default=str))
    ids = {int(number) for pair in found for number in pair if number}
    if not ids:
        return
    private = Collection.objects.filter(name=PRIVATE_COLLECTION, depth=2).first()
    root = Collection.get_first_root_node()
    if private is not None and root is not None:
        get_document_model().objects.filter(pk__in=ids, collection=private).update(collection=root)
