from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .importers import importers


def _format_choices():
    return [("", _("Detect from the file"))] + [(importer.format, importer.label) for importer in importers()]


class ImportForm(forms.Form):
    file = forms.FileField(label=_("Export file"), help_text=_("A WordPress (WXR), Disqus or Isso export."))
    format = forms.ChoiceField(label=_("Format"), required=False, choices=_format_choices)
    dry_run = forms.BooleanField(
        label=_("Dry run"), required=False, help_text=_("Report what the import would do without saving anything.")
    )
