"""Media, all of it, local: WordPress.com's media export (.tar) or a folder, files fetched from
the old site through the SSRF-safe fetcher (served here from loopback), images re-encoded, and
nothing on an imported page loading from another origin."""

from __future__ import annotations

import io
import tarfile
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from PIL import Image

from speakout.interchange.importers import run_import
from speakout.publishing.models import ReportPage
from tests.interchange.helpers import TESTDATA, OldSite, export, images_in, media_tar, picture

pytestmark = pytest.mark.django_db

SCRIPT = b"<script>alert(document.domain)</script>"


@pytest.fixture
def old_site(settings, tmp_path):
    settings.SPEAKOUT_PRIVATE_DIR = tmp_path / "private"
    settings.MEDIA_ROOT = str(tmp_path / "media")
    site = OldSite()
    uploads = "/wp-content/uploads/2024/01/"
    site.files = {
        uploads + "photo.jpg": ("image/jpeg", picture("JPEG")),
        uploads + "inline.png": ("image/png", picture("PNG", (10, 90, 200)) + SCRIPT),
        uploads + "fake.png": ("image/png", b"<html><body>" + SCRIPT + b"</body></html>"),
        uploads + "drawing.svg": ("image/svg+xml", b'<svg xmlns="http://www.w3.org/2000/svg">' + SCRIPT + b"</svg>"),
    }
    yield site
    site.close()


def stored_bytes(image) -> bytes:
    with image.file.open("rb") as handle:
        return handle.read()


def test_fetch_media_brings_every_image_and_cleans_it(old_site, settings, tmp_path, site):
    settings.SPEAKOUT_FETCH_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    wxr = tmp_path / "export.xml"
    wxr.write_text(export(old_site.base), encoding="utf-8")
    progress = []

    result = run_import(wxr, fetch=True, on_fetch=lambda n, total, url: progress.append((n, total)))

    assert result.get("file", "fetched") == 3, result.as_dict()  # the SVG is refused by its type
    assert progress[-1] == (4, 4)
    report = ReportPage.objects.get(title="Our report")
    images = images_in(report)
    assert len(images) == 2, "the attachment (shown resized) and the inline image"
    for image in images:
        data = stored_bytes(image)
        assert SCRIPT not in data and Image.open(io.BytesIO(data)).size == (24, 12)
    skipped = " ".join(what for what, _why in result.skipped)
    assert "fake.png" in skipped and "drawing.svg" in skipped
    html = "".join(str(block.value) for block in report.body)
    assert f'href="{old_site.base}/wp-content/uploads/2024/01/fake.png"' in html, "a plain link, not an image"

    # Again: nothing fetched twice, nothing created twice.
    requests = len(old_site.requests)
    again = run_import(wxr, fetch=True)
    assert len(old_site.requests) == requests + 1, "only the refused SVG is asked for again"
    assert again.get("file", "fetched before") == 3
    assert again.get("attachment", "created") == 0
    assert len(images_in(ReportPage.objects.get(title="Our report"))) == 2


def test_an_interrupted_fetch_resumes(old_site, settings, tmp_path, site):
    settings.SPEAKOUT_FETCH_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    inline = "/wp-content/uploads/2024/01/inline.png"
    kept = old_site.files.pop(inline)
    wxr = tmp_path / "export.xml"
    wxr.write_text(export(old_site.base), encoding="utf-8")

    first = run_import(wxr, fetch=True)
    assert first.get("file", "fetched") == 2 and any("inline.png" in what for what, _ in first.skipped)

    old_site.files[inline] = kept
    old_site.requests.clear()
    second = run_import(wxr, fetch=True)
    assert second.get("file", "fetched") == 1 and second.get("file", "fetched before") == 2
    assert inline in old_site.requests and "/wp-content/uploads/2024/01/photo.jpg" not in old_site.requests
    assert len(images_in(ReportPage.objects.get(title="Our report"))) == 2


def test_loopback_is_refused_unless_allowed(old_site, tmp_path, site):
    wxr = tmp_path / "export.xml"
    wxr.write_text(export(old_site.base), encoding="utf-8")

    result = run_import(wxr, fetch=True)

    assert result.get("file", "fetched") == 0 and not old_site.requests
    assert any("not public" in why for _what, why in result.skipped)
    assert images_in(ReportPage.objects.get(title="Our report")) == []


def test_media_accepts_wordpress_coms_tar(settings, tmp_path, site):
    """The .tar from WordPress.com's "Export media library": year folders in a wrapping folder."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    archive = tmp_path / "media-export.tar"
    archive.write_bytes(media_tar())
    wxr = tmp_path / "export.xml"
    wxr.write_text(export("https://old.example.org"), encoding="utf-8")

    result = run_import(wxr, media_dir=archive)

    assert result.get("attachment", "created") == 2
    assert len(images_in(ReportPage.objects.get(title="Our report"))) == 2


def test_a_tar_cannot_write_outside_its_folder(settings, tmp_path, site):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    archive = tmp_path / "evil.tar"
    with tarfile.open(archive, "w") as tar:
        info = tarfile.TarInfo("../../escaped.txt")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"evil"))
    wxr = tmp_path / "export.xml"
    wxr.write_text(export("https://old.example.org"), encoding="utf-8")

    from speakout.interchange.errors import ImportFailed

    with pytest.raises((ImportFailed, tarfile.TarError)):
        run_import(wxr, media_dir=archive)
    assert not (tmp_path / "escaped.txt").exists()
    assert not ReportPage.objects.exists()


class _Sources(HTMLParser):
    ATTRIBUTES = {"src", "srcset", "poster", "data", "background", "action", "formaction"}

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value and (name in self.ATTRIBUTES or (tag == "link" and name == "href")):
                for part in value.split(","):
                    self.found.append(part.strip().split(" ")[0])


def test_no_imported_page_loads_anything_from_another_origin(client, site):
    """Images not brought in are links; nothing on a page is fetched from the old site."""
    run_import(TESTDATA / "wordpress" / "themeunittestdata.wordpress.xml")
    pages = list(ReportPage.objects.live()) + [
        page.specific for page in site.home.get_descendants().live().not_type(ReportPage)
    ]
    assert len(pages) > 60
    for page in pages:
        response = client.get(page.url, HTTP_HOST="testserver")
        if response.status_code in (301, 302):
            continue
        assert response.status_code in (200, 401), (page.url, response.status_code)
        parser = _Sources()
        parser.feed(response.content.decode())
        foreign = [url for url in parser.found if urlsplit(url).netloc not in ("", "testserver")]
        assert not foreign, (page.url, foreign)
