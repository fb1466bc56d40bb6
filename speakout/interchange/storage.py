"""Where uploaded import files wait for their run: a private folder outside every served one.

An export holds every commenter's address and IP, draft and private posts and post passwords,
so an upload gets a random name in ``SPEAKOUT_PRIVATE_DIR/imports`` (never under the media or
static folders), is readable by the site's own user only, and is deleted when its run ends.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage

FOLDER = "imports"


class PrivateUploadStorage(FileSystemStorage):
    """Files with no address: ``url()`` raises, and the folder is read from the settings on each
    use, so the web processes and the worker agree on it however they were configured."""

    def __init__(self):
        super().__init__(file_permissions_mode=0o600, directory_permissions_mode=0o700)

    @property
    def base_location(self):
        return Path(settings.SPEAKOUT_PRIVATE_DIR) / FOLDER

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    @property
    def base_url(self):
        return None


def private_uploads() -> PrivateUploadStorage:
    return PrivateUploadStorage()


def random_upload_name(instance, filename: str) -> str:
    """A name that tells nothing of the original (kept apart in ``ImportRun.original_name``)."""
    return f"{secrets.token_urlsafe(24)}.upload"


def delete_upload(field_file) -> None:
    if field_file and field_file.name:
        field_file.storage.delete(field_file.name)
