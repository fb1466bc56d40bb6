"""A hostile backup archive: ``speakout restore`` writes nothing outside the media folder,
whatever a member of the archive is called (a backup's names come from whoever made the file)."""

from __future__ import annotations

import io
import json
import tarfile

import pytest


@pytest.fixture
def site_builder_transactional(transactional_db):
    from tests.helpers import SiteBuilder

    return SiteBuilder()


def _hostile_backup(real, path, member_name: str, payload: bytes) -> None:
    """The archive ``speakout backup`` wrote (its manifest first, checksums right, either engine's
    database), with one media member more whose name climbs out of ``media/``."""
    import hashlib

    from speakout.interchange import backup

    with tarfile.open(real) as archive:
        manifest = json.load(archive.extractfile(backup.MANIFEST))
        members = [(name, archive.extractfile(name).read()) for name in manifest["files"]]
    manifest["files"][member_name] = hashlib.sha256(payload).hexdigest()
    with tarfile.open(path, "w:gz") as archive:
        for name, data in [(backup.MANIFEST, json.dumps(manifest).encode()), *members, (member_name, payload)]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


@pytest.mark.django_db(transaction=True)
def test_restore_writes_no_file_outside_the_media_folder(site_builder_transactional, tmp_path, settings):
    """A backup's ``media/…`` members are copied into MEDIA_ROOT. A member named
    ``media/../static/speakout.js`` passes the ``data`` filter (it stays inside the scratch folder
    while unpacked) and was copied to ``MEDIA_ROOT/../static/speakout.js``: the data folder's
    static files (served to every reader), the private folder, an SQLite database: anything
    under MEDIA_ROOT's parent."""
    from speakout.interchange import backup

    data_dir = tmp_path / "data"
    settings.MEDIA_ROOT = str(data_dir / "media")
    (data_dir / "media").mkdir(parents=True)
    (data_dir / "static").mkdir()
    real = backup.backup(tmp_path / "real.tar.gz")
    hostile = tmp_path / "hostile.tar.gz"
    _hostile_backup(real, hostile, "media/../static/speakout.js", b"alert('planted by a backup')")
    try:
        backup.restore(hostile, force=True)
    except backup.BackupFailed:
        pass  # refusing the archive is a fine answer
    assert not (data_dir / "static" / "speakout.js").exists(), "a backup member was written outside MEDIA_ROOT"


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("database.sqlite3", True),
        ("media/original_images/photo.jpg", True),
        ("media/../static/speakout.js", False),
        ("media/images/../../secret_key", False),
        ("/etc/cron.d/job", False),
        ("static/speakout.js", False),
        ("media", False),
        ("keys/secret_key", True),
        ("keys/dkim.pem", True),
        ("secret_key", False),
        ("keys/../secret_key", False),
        ("keys/dkim/../../speakout.sqlite3", False),
        ("keys/other.pem", False),
        ("keys", False),
    ],
)
def test_only_the_database_files_under_media_and_the_keys_are_restored(name, safe):
    from speakout.interchange import backup

    assert backup._member_name_is_safe(name) is safe
