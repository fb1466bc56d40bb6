"""An import upload and a media archive cannot fill the disk: the Import screen refuses a file
over its size limit and stores nothing, and a media ``.tar`` is measured before a byte of it is
unpacked (total size, number of files, size of each), so a mistaken or hostile archive fails the
run with a clear error and leaves nothing behind, in the media folder or anywhere else."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from wagtail.images import get_image_model

from speakout.interchange.errors import ImportFailed
from speakout.interchange.importers import run_import
from speakout.interchange.models import ImportRun
from tests.interchange.helpers import export, media_tar, picture

pytestmark = pytest.mark.django_db


@pytest.fixture
def folders(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.SPEAKOUT_PRIVATE_DIR = tmp_path / "private"
    return tmp_path


@pytest.fixture
def admin_client(client, site, folders):
    user = get_user_model().objects.create_superuser("boss", "boss@example.org", "pw-long-enough-1")
    client.force_login(user)
    return client


def files_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()] if folder.exists() else []


def archive(members: dict[str, bytes], *, compress: bool = False) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz" if compress else "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_an_export_over_the_upload_limit_is_refused_and_nothing_is_stored(admin_client, settings, folders):
    settings.SPEAKOUT_INTERCHANGE_MAX_UPLOAD_BYTES = 1000
    xml = SimpleUploadedFile("export.xml", export("https://old.example.org").encode(), content_type="text/xml")

    response = admin_client.post(reverse("speakout_interchange:index"), {"file": xml})

    assert response.status_code == 400
    assert "larger than" in response.content.decode()
    assert not ImportRun.objects.exists()
    assert files_under(folders / "private") == [] and files_under(folders / "media") == []


def test_a_media_export_over_the_limit_is_refused_and_nothing_is_stored(admin_client, settings, folders):
    settings.SPEAKOUT_INTERCHANGE_MEDIA_MAX_BYTES = 1000
    xml = SimpleUploadedFile("export.xml", export("https://old.example.org").encode(), content_type="text/xml")
    media = SimpleUploadedFile("media-export.tar", media_tar(), content_type="application/x-tar")

    response = admin_client.post(reverse("speakout_interchange:index"), {"file": xml, "media": media})

    assert response.status_code == 400
    assert "larger than" in response.content.decode()
    assert not ImportRun.objects.exists()
    assert files_under(folders / "private") == [] and files_under(folders / "media") == []


def test_a_request_announcing_more_than_both_limits_is_refused_before_its_body_is_read(admin_client, settings):
    """The size a browser announces is checked first, so an oversized upload is never spooled to
    a temporary file."""
    settings.SPEAKOUT_INTERCHANGE_MAX_UPLOAD_BYTES = 1000
    settings.SPEAKOUT_INTERCHANGE_MEDIA_MAX_BYTES = 1000
    xml = SimpleUploadedFile("export.xml", b"x" * (2 * 1024 * 1024), content_type="text/xml")

    response = admin_client.post(reverse("speakout_interchange:index"), {"file": xml})

    assert response.status_code == 413
    assert "larger than" in response.content.decode()
    assert not ImportRun.objects.exists()


LIMITS = {
    "total": ("SPEAKOUT_INTERCHANGE_MEDIA_MAX_BYTES", 20_000, "unpacks to more than"),
    "count": ("SPEAKOUT_INTERCHANGE_MEDIA_MAX_FILES", 1, "more than 1 file"),
    "member": ("SPEAKOUT_INTERCHANGE_MEDIA_MAX_FILE_BYTES", 1000, "larger than"),
}


def _over_every_limit() -> bytes:
    # Two pictures (each over 1,000 bytes) and a 30 kB document: over each limit of LIMITS once
    # unpacked, though the upload itself (compressed) is within them.
    return archive(
        {
            "media/2024/01/photo.jpg": picture("JPEG") + b"\0" * 1000,
            "media/2024/01/inline.png": picture("PNG") + b"\0" * 1000,
            "media/2024/01/minutes.txt": b"m" * 30_000,
        },
        compress=True,
    )


@pytest.mark.parametrize("limit", LIMITS, ids=list(LIMITS))
def test_an_uploaded_media_export_over_an_unpacking_limit_fails_the_run_and_leaves_nothing(
    admin_client, settings, folders, limit
):
    name, value, message = LIMITS[limit]
    setattr(settings, name, value)
    xml = SimpleUploadedFile("export.xml", export("https://old.example.org").encode(), content_type="text/xml")
    media = SimpleUploadedFile("media-export.tar.gz", _over_every_limit(), content_type="application/gzip")
    assert media.size < 20_000

    response = admin_client.post(reverse("speakout_interchange:index"), {"file": xml, "media": media})

    assert response.status_code == 302
    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.FAILED
    assert message in run.error and "SPEAKOUT_IMPORT_" in run.error, run.error
    assert not get_image_model().objects.exists()
    assert files_under(folders / "media") == [] and files_under(folders / "private") == []
    page = admin_client.get(reverse("speakout_interchange:run", args=[run.pk])).content.decode()
    assert message in page


def test_a_compressed_archive_is_measured_by_what_it_unpacks_to(settings, folders, site, tmp_path, monkeypatch):
    """A gzip bomb: 64 MB of zeros in a few kilobytes, refused by its members' sizes before
    anything is written (the scratch folder stays empty)."""
    settings.SPEAKOUT_INTERCHANGE_MEDIA_MAX_BYTES = 32 * 1024 * 1024
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("media/2024/01/zeros.txt")
        info.size = 64 * 1024 * 1024
        tar.addfile(info, io.BytesIO(bytes(info.size)))
    bomb = tmp_path / "media.tar.gz"
    bomb.write_bytes(gzip.compress(buffer.getvalue()))
    assert bomb.stat().st_size < 200_000
    wxr = tmp_path / "export.xml"
    wxr.write_text(export("https://old.example.org"), encoding="utf-8")
    written = []
    monkeypatch.setattr(tarfile.TarFile, "makefile", lambda self, info, path: written.append(path))

    with pytest.raises(ImportFailed, match="unpacks to more than"):
        run_import(wxr, media_dir=bomb)

    assert written == []
    assert files_under(folders / "media") == []


def test_an_archive_within_the_limits_is_imported(settings, folders, site, tmp_path):
    settings.SPEAKOUT_INTERCHANGE_MEDIA_MAX_FILES = 3
    settings.SPEAKOUT_INTERCHANGE_MEDIA_MAX_FILE_BYTES = 2000
    media = tmp_path / "media.tar"
    media.write_bytes(media_tar())
    wxr = tmp_path / "export.xml"
    wxr.write_text(export("https://old.example.org"), encoding="utf-8")

    result = run_import(wxr, media_dir=media)

    assert result.get("attachment", "created") == 2


def test_fetched_media_stop_at_the_media_limit(settings, folders, tmp_path):
    """`--fetch-media` reads the export's addresses: a crafted export naming thousands of large
    files fills the private folder no more than a media archive may."""
    from speakout.interchange.media import cache_folder, fetch_media
    from tests.interchange.helpers import OldSite

    settings.SPEAKOUT_FETCH_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.SPEAKOUT_INTERCHANGE_MEDIA_MAX_BYTES = 2500
    site = OldSite()
    try:
        for number in range(5):
            site.files[f"/wp-content/uploads/{number}.jpg"] = ("image/jpeg", picture("JPEG") + bytes(1000))
        urls = [f"{site.base}/wp-content/uploads/{number}.jpg" for number in range(5)]

        report = fetch_media(urls)
    finally:
        site.close()

    assert report.fetched == 2, report
    assert len(report.failed) == 3 and all("SPEAKOUT_IMPORT_MAX_MEDIA_MB" in why for _url, why in report.failed)
    assert len(site.requests) == 2, "nothing more is asked for once the limit is reached"
    assert sum(path.stat().st_size for path in cache_folder().iterdir()) < 2500 + 2000
