"""Files the site writes for its own user alone."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any


def open_private(path: str | Path, mode: str = "w", **options: Any) -> IO[Any]:
    """Open ``path`` for writing, readable by the site's own user only whatever the umask (a file
    left by an earlier run is made private too): for backups and exports, which hold every
    commenter's or subscriber's address, and a backup every table."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    return os.fdopen(descriptor, mode, **options)
