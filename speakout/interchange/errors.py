"""The one error an import raises: a message a person can act on, naming the line when known."""

from __future__ import annotations


class ImportFailed(Exception):
    """The file cannot be imported; nothing was changed. ``line`` is the file's line, if known."""

    def __init__(self, message: str, line: int | None = None):
        self.line = line
        super().__init__(message)
