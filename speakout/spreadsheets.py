"""CSV cells a spreadsheet shows as text. Every CSV the site writes for people to open (contact
messages, subscribers) goes through ``safe_cell``, with every field quoted by the writer."""

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
