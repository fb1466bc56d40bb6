"""Uploaded import files hold every commenter's address and IP, drafts and post passwords: no
address on the site may serve them, and they do not outlive their import run."""

from __future__ import annotations

import importlib
import stat
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from speakout.interchange.models import ImportRun

FIXTURES = Path(__file__).resolve().parents[1] / "interchange" / "fixtures"
# The name WordPress gives its exports: an attacker guesses it from the site's name and a date.
WORDPRESS_NAME = "speakout.WordPress.2026-12-05.xml"
# Unique to this test process: xdist workers share the data folder, so another worker's upload
# in flight must not count as a leftover of this one.
SECRET = f"commenter-{uuid.uuid4().hex}@example.org".encode()


def _export() -> bytes:
    """A real export with a commenter's address in it, so a leak is recognisable."""
    data = (FIXTURES / "edge-cases.xml").read_bytes()
    return data.replace(b"</channel>", b"<!-- " + SECRET + b" --></channel>", 1)


def _plausible_addresses(run: ImportRun, stored_name: str) -> list[str]:
    names = {WORDPRESS_NAME, run.original_name, Path(stored_name).name, stored_name}
    addresses = []
    for name in names:
        for folder in ("interchange/uploads/", "interchange/", "uploads/", "imports/", "private/imports/", ""):
            addresses.append(f"{settings.MEDIA_URL}{folder}{name}")
        addresses += [f"/static/{name}", f"/{name}", f"/private/imports/{name}", f"/imports/{name}"]
    return addresses


@pytest.fixture
def staff_client(site_builder):
    user = get_user_model().objects.create_superuser("importer", "importer@example.org", "pw-long-enough-1")
    client = Client()
    client.force_login(user)
    return client


def _files_holding_the_secret(root: Path) -> list[Path]:
    if not root.exists():
        return []
    return [path for path in root.rglob("*") if path.is_file() and SECRET in path.read_bytes()]


@pytest.mark.django_db
@pytest.mark.parametrize("dry_run", [False, True], ids=["import", "dry-run"])
def test_an_uploaded_export_is_never_served_and_is_gone_when_the_run_ends(staff_client, dry_run, monkeypatch):
    from speakout.interchange import storage

    deleted = []
    delete_upload = storage.delete_upload
    monkeypatch.setattr(storage, "delete_upload", lambda file: deleted.append(file.name) or delete_upload(file))
    upload = SimpleUploadedFile(WORDPRESS_NAME, _export(), content_type="text/xml")
    data = {"file": upload, "format": ""}
    if dry_run:
        data["dry_run"] = "on"
    response = staff_client.post(reverse("speakout_interchange:index"), data)
    assert response.status_code == 302
    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.DONE, run.error
    assert run.original_name == WORDPRESS_NAME
    assert deleted and deleted[0]
    anonymous = Client()
    for address in _plausible_addresses(run, deleted[0]):
        answer = anonymous.get(address)
        assert answer.status_code == 404, address
    # Nothing is left to name: the run forgot its file when it deleted it.
    assert run.file.name == ""
    # Nothing with the export's content is left, in the served media folder or anywhere else.
    assert _files_holding_the_secret(Path(settings.MEDIA_ROOT)) == []
    assert _files_holding_the_secret(Path(settings.SPEAKOUT_PRIVATE_DIR)) == []


@pytest.mark.django_db
def test_a_failed_import_deletes_its_upload_too(staff_client):
    broken = _export().replace(b"</channel>", b"<broken", 1)
    upload = SimpleUploadedFile(WORDPRESS_NAME, broken, content_type="text/xml")
    staff_client.post(reverse("speakout_interchange:index"), {"file": upload, "format": ""})
    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.FAILED
    assert _files_holding_the_secret(Path(settings.MEDIA_ROOT)) == []
    assert _files_holding_the_secret(Path(settings.SPEAKOUT_PRIVATE_DIR)) == []


@pytest.mark.django_db
def test_a_queued_upload_sits_in_the_private_folder_readable_by_its_owner_only(staff_client, monkeypatch):
    """Between the upload and the run (the worker may be busy) the file is outside every served
    folder, readable by the process's own user only."""
    from speakout.interchange import admin_views

    monkeypatch.setattr(admin_views, "run_import_task", SimpleNamespace(enqueue=lambda run_id: None))
    upload = SimpleUploadedFile(WORDPRESS_NAME, _export(), content_type="text/xml")
    staff_client.post(reverse("speakout_interchange:index"), {"file": upload, "format": ""})
    run = ImportRun.objects.get()
    # Stored under a random name that says nothing of the original.
    assert "WordPress" not in run.file.name and "speakout" not in run.file.name
    path = Path(run.file.path).resolve()
    private = Path(settings.SPEAKOUT_PRIVATE_DIR).resolve()
    assert path.is_relative_to(private)
    assert not path.is_relative_to(Path(settings.MEDIA_ROOT).resolve())
    assert not path.is_relative_to(Path(settings.STATIC_ROOT).resolve())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    for address in _plausible_addresses(run, run.file.name):
        assert Client().get(address).status_code == 404, address
    # The run never ran here: delete its upload, as the task would, for the tests after this one.
    run.file.delete(save=False)


@pytest.mark.django_db
def test_uploads_left_public_by_an_earlier_version_are_deleted(site_builder):
    """An install upgraded from a version that kept uploads under the media folder: the
    migration deletes them, and a run still waiting on one fails with a clear message."""
    from django.apps import apps

    old_folder = Path(settings.MEDIA_ROOT) / "interchange" / "uploads"
    old_folder.mkdir(parents=True, exist_ok=True)
    left = old_folder / WORDPRESS_NAME
    left.write_bytes(_export())
    done = ImportRun.objects.create(file=f"interchange/uploads/{WORDPRESS_NAME}", status=ImportRun.Status.DONE)
    waiting = ImportRun.objects.create(file=f"interchange/uploads/{WORDPRESS_NAME}", status=ImportRun.Status.QUEUED)
    # Speakout's media address serves images only now, but a front server may serve the folder.
    assert left.is_file()
    migration = importlib.import_module("speakout.interchange.migrations.0002_private_uploads")
    migration.delete_public_uploads(apps, schema_editor=None)
    assert not left.exists()
    assert Client().get(f"{settings.MEDIA_URL}interchange/uploads/{WORDPRESS_NAME}").status_code == 404
    done.refresh_from_db()
    waiting.refresh_from_db()
    assert done.status == ImportRun.Status.DONE and done.file.name == ""
    assert waiting.status == ImportRun.Status.FAILED and "upload it again" in waiting.error


def test_a_private_folder_inside_a_served_one_is_refused_at_start_up(settings, tmp_path):
    from speakout.interchange.checks import check_private_dir

    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.SPEAKOUT_PRIVATE_DIR = tmp_path / "media" / "private"
    assert [error.id for error in check_private_dir(None)] == ["speakout_interchange.E001"]
    settings.SPEAKOUT_PRIVATE_DIR = tmp_path / "private"
    assert check_private_dir(None) == []
