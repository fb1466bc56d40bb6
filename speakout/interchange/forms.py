from __future__ import annotations

import tarfile

from django import forms
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from . import app_settings
from .importers import importers


def too_large(limit: int, variable: str) -> str:
    return _("The file is larger than %(size)s, the most an import takes (%(variable)s). Nothing was stored.") % {
        "size": filesizeformat(limit),
        "variable": variable,
    }


def _within(upload, limit: int, variable: str):
    # Refused before the run is made: nothing goes to the private folder (Django deletes its own
    # temporary copy when the request ends).
    if upload and upload.size > limit:
        raise forms.ValidationError(too_large(limit, variable))
    return upload


def _format_choices():
    return [("", _("Detect from the file"))] + [(importer.format, importer.label) for importer in importers()]


class ImportForm(forms.Form):
    file = forms.FileField(label=_("Export file"), help_text=_("A WordPress (WXR), Disqus or Isso export."))
    media = forms.FileField(
        label=_("Media export (optional)"),
        required=False,
        help_text=_(
            "WordPress.com's media export (the .tar file as downloaded): the pictures and documents the posts use."
        ),
    )
    format = forms.ChoiceField(label=_("Format"), required=False, choices=_format_choices)
    dry_run = forms.BooleanField(
        label=_("Dry run"), required=False, help_text=_("Report what the import would do without saving anything.")
    )

    def clean_file(self):
        return _within(self.cleaned_data.get("file"), app_settings.MAX_UPLOAD_BYTES, "SPEAKOUT_IMPORT_MAX_FILE_MB")

    def clean_media(self):
        media = _within(self.cleaned_data.get("media"), app_settings.MEDIA_MAX_BYTES, "SPEAKOUT_IMPORT_MAX_MEDIA_MB")
        if media:
            media.seek(0)
            readable = tarfile.is_tarfile(media)
            media.seek(0)
            if not readable:
                raise forms.ValidationError(
                    _("This is not a .tar archive. Upload WordPress.com's media export as it was downloaded.")
                )
        return media


class SubscriberImportForm(forms.Form):
    file = forms.FileField(
        label=_("Subscriber list (CSV)"),
        help_text=_("WordPress.com's “Download subscribers as CSV”: email, date subscribed and subscription status."),
    )
    send_confirmations = forms.BooleanField(
        label=_("Mail each unconfirmed address one confirmation link"),
        required=False,
        help_text=_("Left unticked, addresses that never confirmed stay out and nobody gets any mail."),
    )
    dry_run = forms.BooleanField(
        label=_("Dry run"), required=False, help_text=_("Report what the import would do without saving anything.")
    )
