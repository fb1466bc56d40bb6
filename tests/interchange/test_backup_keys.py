"""A backup restored on a new machine keeps the keys the site keeps in its data folder: the
secret key (guests' cookies, sign-ins and every mailed manage, unsubscribe and confirm link) and
the DKIM key (its public half is in the organisation's DNS). Keys given by environment variable
are the operator's and stay out of the archive; the restore says what to do about them."""

from __future__ import annotations

import io
import json
import stat
import tarfile

import pytest
from django.core import signing
from django.core.management import call_command
from django.core.management.base import CommandError

from speakout.interchange import backup

SALT = "speakout.subscriptions.unsubscribe"


@pytest.fixture
def old_site(transactional_db, tmp_path, settings):
    """A site whose data folder holds its generated secret key and a DKIM key file."""
    folder = tmp_path / "old"
    (folder / "dkim").mkdir(parents=True)
    (folder / "secret_key").write_text("the-old-site-s-generated-key-" + "x" * 40)
    (folder / "dkim" / "speakout.pem").write_bytes(b"-----BEGIN PRIVATE KEY-----\nold site\n-----END PRIVATE KEY-----")
    settings.DATA_DIR = folder
    settings.SECRET_KEY = (folder / "secret_key").read_text()
    settings.SECRET_KEY_FALLBACKS = []
    settings.SPEAKOUT_DKIM_PRIVATE_KEY = ""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return folder


def _move_to_a_new_data_folder(tmp_path, settings):
    """A fresh install elsewhere: its own generated secret key, no DKIM key yet."""
    folder = tmp_path / "new"
    folder.mkdir()
    (folder / "secret_key").write_text("a-fresh-install-s-generated-key-" + "y" * 40)
    settings.DATA_DIR = folder
    settings.SECRET_KEY = (folder / "secret_key").read_text()
    return folder


def _restore(archive, *arguments) -> str:
    out = io.StringIO()
    call_command("speakout_restore", str(archive), "--force", *arguments, stdout=out)
    return out.getvalue()


def test_a_restore_into_a_new_data_folder_keeps_the_old_site_s_signed_links_and_dkim_key(old_site, tmp_path, settings):
    """An unsubscribe link mailed by the old site still verifies with the restored key, and the
    DKIM key comes back byte for byte, both readable by the site's user only."""
    link = signing.dumps({"subscription": 7}, salt=SALT)
    dkim = (old_site / "dkim" / "speakout.pem").read_bytes()
    archive = backup.backup(tmp_path / "site.tar.gz")
    new = _move_to_a_new_data_folder(tmp_path, settings)
    output = _restore(archive)
    restored_key = (new / "secret_key").read_text().strip()
    assert signing.loads(link, key=restored_key, salt=SALT) == {"subscription": 7}
    assert (new / "dkim" / "speakout.pem").read_bytes() == dkim
    for path in (new / "secret_key", new / "dkim" / "speakout.pem"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert "restart" in output, "the running processes still sign with the fresh install's key"


def test_keys_given_by_environment_variable_stay_out_and_the_restore_says_so(old_site, tmp_path, settings):
    settings.SECRET_KEY = "the operator's own key"
    settings.SPEAKOUT_DKIM_PRIVATE_KEY = "-----BEGIN PRIVATE KEY-----\\nthe operator's\\n-----END PRIVATE KEY-----"
    archive = backup.backup(tmp_path / "site.tar.gz")
    members = set(backup.read_manifest(archive)["files"])
    assert not {name for name in members if name.startswith("keys/")}
    _move_to_a_new_data_folder(tmp_path, settings)
    output = _restore(archive)
    assert "SPEAKOUT_SECRET_KEY" in output and "SPEAKOUT_DKIM_PRIVATE_KEY" in output


def test_an_archive_made_before_backups_carried_keys_restores(old_site, tmp_path, settings):
    """Its fresh install keeps its own key, and the restore says the old site's links need the old one."""
    archive = backup.backup(tmp_path / "site.tar.gz")
    older = tmp_path / "older.tar.gz"
    with tarfile.open(archive) as source, tarfile.open(older, "w:gz") as target:
        manifest = json.load(source.extractfile(backup.MANIFEST))
        manifest.pop("keys_from_environment", None)
        manifest["files"] = {name: digest for name, digest in manifest["files"].items() if not name.startswith("keys/")}
        data = json.dumps(manifest).encode()
        info = tarfile.TarInfo(backup.MANIFEST)
        info.size = len(data)
        target.addfile(info, io.BytesIO(data))
        for name in manifest["files"]:
            target.addfile(source.getmember(name), source.extractfile(name))
    new = _move_to_a_new_data_folder(tmp_path, settings)
    fresh_key = (new / "secret_key").read_text()
    output = _restore(older)
    assert (new / "secret_key").read_text() == fresh_key
    assert "SPEAKOUT_SECRET_KEY_FALLBACKS" in output


def test_a_different_dkim_key_in_the_new_data_folder_is_replaced_only_when_asked_and_kept(old_site, tmp_path, settings):
    """Its public half may be in the DNS already: without --force nothing changes; with it the
    archive's key takes its place and it is kept beside it."""
    from wagtail.models import Page

    archive = backup.backup(tmp_path / "site.tar.gz")
    new = _move_to_a_new_data_folder(tmp_path, settings)
    (new / "dkim").mkdir()
    own = b"-----BEGIN PRIVATE KEY-----\nnew machine\n-----END PRIVATE KEY-----\n"
    (new / "dkim" / "speakout.pem").write_bytes(own)
    fresh_key = (new / "secret_key").read_text()
    pages = Page.objects.count()
    with pytest.raises(CommandError, match="DKIM"):
        call_command("speakout_restore", str(archive), stdout=io.StringIO())
    assert (new / "dkim" / "speakout.pem").read_bytes() == own
    assert (new / "secret_key").read_text() == fresh_key and Page.objects.count() == pages
    _restore(archive)
    assert (new / "dkim" / "speakout.pem").read_bytes() == (old_site / "dkim" / "speakout.pem").read_bytes()
    [kept] = (new / "dkim").glob("speakout.pem.before-restore-*")
    assert kept.read_bytes() == own
