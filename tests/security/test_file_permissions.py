"""Files that hold the whole site (a backup: every table, password hashes and keys included; an
export: every commenter's address) are readable by the site's own user only, whatever the
process's umask: the data folder is usually readable by others (a front server reads its static
and media folders), and a user who may read it must not read these."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from speakout.interchange import backup

ROOT = Path(__file__).resolve().parents[2]


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


def _manage(*args: str, data_dir: Path) -> str:
    """A command of the embedded default (SQLite, mail as files) run with the usual umask."""
    drop = ("DJANGO_", "SPEAKOUT_EMAIL", "DATABASE_URL")
    env = {key: value for key, value in os.environ.items() if not key.startswith(drop)}
    env.update(SPEAKOUT_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="speakout.settings")
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        umask=0o022,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


# Writes a row, and while the connection is open (SQLite deletes its -wal and -shm files when the
# last one closes) prints the mode of each of the database's files.
_MODES_WHILE_WRITING = """
import json, os
from django.conf import settings
from django.db import connection
connection.cursor().execute("CREATE TABLE written (x)")
name = str(settings.DATABASES["default"]["NAME"])
print(json.dumps({suffix: os.stat(name + suffix).st_mode & 0o777 for suffix in ("", "-wal", "-shm")}))
"""


def test_the_sqlite_database_is_readable_by_the_sites_user_only(tmp_path):
    """The embedded default's database, its write-ahead log and its shared-memory file."""
    modes = json.loads(_manage("shell", "-c", _MODES_WHILE_WRITING, data_dir=tmp_path).splitlines()[-1])
    assert modes == {"": 0o600, "-wal": 0o600, "-shm": 0o600}
    assert _mode(tmp_path / "speakout.sqlite3") == 0o600


def test_mail_kept_in_files_is_readable_by_the_sites_user_only(tmp_path):
    """With no mail server configured, mails go to files in the data folder; they hold working
    links (manage my replies, confirmations), so their folder is the site's own."""
    _manage("sendtestemail", "sam@example.org", data_dir=tmp_path)
    folder = tmp_path / "mail"
    assert any(folder.iterdir())
    assert _mode(folder) == 0o700
