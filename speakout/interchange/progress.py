"""Where a background import leaves its progress for the admin screen to read.

The import runs in one transaction, so a progress row in the database would only appear when
it is over. The progress goes to a small JSON file in the data folder instead (the web process
and the worker share it), written atomically.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from django.conf import settings


def _path(run_id: int) -> Path:
    folder = Path(settings.DATA_DIR) / "interchange"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"progress-{int(run_id)}.json"


def save(run_id: int, data: dict) -> None:
    """Written to a temporary file of this call's own, then moved into place: a reader sees the
    old or the new progress, never a part, and two writers never move each other's file."""
    path = _path(run_id)
    handle, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".partial")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(json.dumps(data))
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def load(run_id: int) -> dict:
    try:
        return json.loads(_path(run_id).read_text())
    except (OSError, ValueError):
        return {}
