"""CSV cells a spreadsheet shows as text. Every CSV the site writes for people to open (contact
messages, subscribers) goes through ``safe_cell``, with every field quoted by the writer, and so
does every CSV Wagtail's admin exports (``guard_wagtail_exports``)."""

from __future__ import annotations

import re

# A formula may start a cell, or start after any character a spreadsheet might split a line
# on (a comma, a semicolon, a tab, a bar, a line break), spaces before it included.
_FORMULA_START = re.compile(r"(^|[,;\t|\r\n])([ ]*)(?=[=+\-@])")
_NEUTRALISED_START = re.compile(r"^'(?=[=+\-@\t\r\n])")


def safe_cell(value) -> str:
    """An apostrophe before every place a formula could start, whatever the separator."""
    text = str(value)
    if text[:1] in ("\t", "\r", "\n"):
        text = "'" + text
    return _FORMULA_START.sub(lambda match: f"{match.group(1)}{match.group(2)}'", text)


def read_cell(text: str) -> str:
    """A cell as written before ``safe_cell`` guarded its start (for files read back in)."""
    return _NEUTRALISED_START.sub("", text)


def guard_wagtail_exports() -> None:
    """Guard the CSV cells of every Wagtail export (its reports, redirects, any listing with
    ``list_export``): they carry page titles and account names, which anyone with an account
    chooses, and Wagtail writes them as they are (its XLSX export already stores formulas as text).

    One wrap of ``SpreadsheetExportMixin.preprocess_field_value``, the method Wagtail calls for
    every exported cell, rather than a subclass of each of its views, which would mean replacing
    their URLs."""
    from wagtail.admin.views.mixins import SpreadsheetExportMixin

    original = SpreadsheetExportMixin.preprocess_field_value
    if getattr(original, "speakout_guarded", False):
        return

    def preprocess_field_value(self, field, value, export_format):
        value = original(self, field, value, export_format)
        if export_format == self.FORMAT_CSV and isinstance(value, str):
            return safe_cell(value)
        return value

    preprocess_field_value.speakout_guarded = True  # type: ignore[attr-defined]
    SpreadsheetExportMixin.preprocess_field_value = preprocess_field_value  # type: ignore[method-assign]
