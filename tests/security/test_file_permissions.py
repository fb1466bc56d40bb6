"""Files that hold the whole site (a backup: every table, password hashes and keys included; an
export: every commenter's address) are readable by the site's own user only, whatever the
process's umask: the data folder is usually readable by others (a front server reads its static
and media folders), and a user who may read it must not read these."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from django.core.management import call_command

from speakout.interchange import backup


@pytest.fixture
def loose_umask():
    """The usual default: new files readable by everyone."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.django_db(transaction=True)
def test_a_backup_is_readable_by_the_sites_user_only(transactional_db, tmp_path, settings, loose_umask):
    """The scheduled backup's folder and archive, and an archive written where the operator said."""
    settings.DATA_DIR = tmp_path / "data"
    settings.MEDIA_ROOT = str(tmp_path / "media")
    scheduled = backup.backup()
    assert _mode(scheduled) == 0o600
    assert _mode(scheduled.parent) == 0o700
    chosen = backup.backup(tmp_path / "site.tar.gz")
    assert _mode(chosen) == 0o600


@pytest.mark.django_db
@pytest.mark.parametrize("command", [["speakout_export", "--format", "json"], ["speakout_export_subscribers"]])
def test_an_export_written_to_a_file_is_readable_by_the_sites_user_only(site_builder, tmp_path, loose_umask, command):
    """``speakout export --output`` and ``speakout export-subscribers --output``; a file left
    readable by an earlier run is made private too."""
    fresh, existing = tmp_path / "fresh", tmp_path / "existing"
    existing.write_text("")
    existing.chmod(0o644)
    for path in (fresh, existing):
        call_command(*command, "--output", str(path), verbosity=0)
        assert path.stat().st_size > 0
        assert _mode(path) == 0o600, path
