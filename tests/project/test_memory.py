"""glibc malloc settings applied when a web process or the worker starts, and the libraries a web
process leaves out (speakout/memory.py)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from speakout import memory

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fresh(monkeypatch):
    monkeypatch.setattr(memory, "_done", False)
    for _parameter, variable, _value in memory.SETTINGS:
        monkeypatch.delenv(variable, raising=False)
    return monkeypatch


def test_settings_are_applied_once_on_glibc(fresh):
    assert platform.libc_ver()[0] == "glibc"  # what Speakout runs on in production
    assert memory.tune() is True
    assert memory.tune() is False  # once per process


def test_switched_off_by_the_environment(fresh):
    fresh.setenv("SPEAKOUT_MALLOC_TUNING", "no")
    assert memory.tune() is False


def test_glibc_variables_win(fresh, monkeypatch):
    calls = []

    class FakeMallopt:
        def __init__(self):
            self.argtypes = self.restype = None

        def __call__(self, parameter, value):
            calls.append((parameter, value))
            return 1

    libc = type("Libc", (), {"mallopt": FakeMallopt()})()
    monkeypatch.setattr(memory.ctypes, "CDLL", lambda name: libc)
    fresh.setenv("MALLOC_ARENA_MAX", "4")
    assert memory.tune() is True
    assert (memory.M_ARENA_MAX, 2) not in calls
    assert (memory.M_MMAP_THRESHOLD, 1024 * 1024) in calls


def test_a_page_is_not_mapped_and_trimmed_per_request():
    # A report page's strings (up to 250 KB) come from the heap: thresholds below that cost about
    # 3 ms more CPU a signed-in page (of 8-10) in mmap, munmap and trimming.
    values = {parameter: value for parameter, _variable, value in memory.SETTINGS}
    assert values[memory.M_MMAP_THRESHOLD] >= 4 * 250 * 1024
    assert values[memory.M_TRIM_THRESHOLD] >= 4 * values[memory.M_MMAP_THRESHOLD]


# -- libraries the web processes leave out ----------------------------------------------------

SQLITE = {"default": {"ENGINE": "django.db.backends.sqlite3"}}
POSTGRES = {"default": {"ENGINE": "django.db.backends.postgresql"}}


def test_pillow_heif_and_psycopg_are_unused_on_sqlite_without_heif_uploads():
    assert memory.unused_libraries(SQLITE, ["avif", "jpg"]) == ["pillow_heif", "psycopg", "psycopg2"]


def test_psycopg_stays_with_postgresql_and_pillow_heif_with_heif_uploads():
    assert memory.unused_libraries(POSTGRES, ["avif", "jpg"]) == ["pillow_heif"]
    assert memory.unused_libraries({"default": {"ENGINE": "django.contrib.gis.db.backends.postgis"}}, ["HEIC"]) == []


# A web process as granian starts it (speakout.wsgi) on SQLite: what a reader's requests leave
# loaded, then the screens and images that load the rest when someone uses them.
WEB_PROCESS = """
import io, os, sys
from pathlib import Path

import speakout.wsgi
from django.core.management import call_command

call_command("migrate", verbosity=0)
call_command("speakout_sync_site", verbosity=0)

def get(path):
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
               "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1", "wsgi.input": io.BytesIO(), "wsgi.url_scheme": "http"}
    status = []
    body = b"".join(speakout.wsgi.application(environ, lambda code, headers, exc=None: status.append(code)))
    return status[0], body

for path in ("/robots.txt", "/", "/", "/sitemap.xml"):
    status, body = get(path)
    assert status.startswith("200"), (path, status, body[:500])

HEAVY = ("psycopg", "psycopg_binary", "psycopg2", "pillow_heif", "_pillow_heif", "speakout.interchange.admin_views",
         "speakout.interchange.export_views", "speakout.interchange.importers", "speakout.interchange.writer",
         "speakout.interchange.wxr_export", "speakout.interchange.json_export", "speakout.interchange.tasks")
loaded = [name for name in HEAVY if sys.modules.get(name) is not None]
assert not loaded, loaded
libraries = {line.split()[-1].rsplit("/", 1)[-1] for line in open("/proc/self/maps") if "/" in line}
assert not [name for name in libraries if name.startswith(("libheif", "libx265", "libpq"))], sorted(libraries)
print("reader's path without them")

# The Import and Export screens load their modules with their first request.
from django.contrib.auth import get_user_model
from django.test import Client

boss = get_user_model().objects.create_superuser("boss", "boss@example.org", "pw-long-enough-1")
client = Client(HTTP_HOST="127.0.0.1")
client.force_login(boss)
page = client.get("/admin/import/")
assert page.status_code == 200 and b"Start the import" in page.content, page.status_code
assert client.get("/admin/export/").status_code == 200
download = client.get("/admin/export/json/")
assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"{"), download.status_code
assert "speakout.interchange.admin_views" in sys.modules and "speakout.interchange.export_views" in sys.modules
menu = client.get("/admin/").content
assert b"/admin/import/" in menu and b"/admin/export/" in menu
print("interchange screens")

# Pictures: renditions of the types Speakout accepts (AVIF is Pillow's own), and a HEIF file
# refused as before (HEIF is not among WAGTAILIMAGES_EXTENSIONS), under any name.
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image as Picture
from wagtail.images import get_image_model
from wagtail.images.forms import get_image_form

def picture(kind):
    out = io.BytesIO()
    Picture.new("RGB", (64, 48), (200, 30, 30)).save(out, format=kind)
    return out.getvalue()

ImageForm = get_image_form(get_image_model())
for name, data in (("red.jpg", picture("JPEG")), ("red.avif", picture("AVIF")), ("red.webp", picture("WEBP"))):
    form = ImageForm({"title": name}, {"file": SimpleUploadedFile(name, data)}, user=boss)
    assert form.is_valid(), form.errors
    image = form.save()
    for spec in ("fill-32x32", "max-16x16|format-jpeg", "width-20|format-avif"):
        rendition = image.get_rendition(spec)
        assert rendition.width in (16, 20, 32), (name, spec, rendition.width)
heif = Path(os.environ["HEIF_SAMPLE"]).read_bytes()
for name in ("photo.heic", "photo.jpg"):
    form = ImageForm({"title": name}, {"file": SimpleUploadedFile(name, heif)}, user=boss)
    assert not form.is_valid() and "file" in form.errors, name
print("pictures")
"""


def test_a_web_process_leaves_out_what_readers_do_not_use(tmp_path):
    import io

    from PIL import Image

    sample = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 30, 200)).save(sample, format="HEIF")  # pillow-heif, in this process
    (tmp_path / "photo.heic").write_bytes(sample.getvalue())
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "speakout.settings",
        "SPEAKOUT_DATA_DIR": str(tmp_path / "data"),
        "HEIF_SAMPLE": str(tmp_path / "photo.heic"),
    }
    for name in ("DATABASE_URL", "REDIS_URL", "SPEAKOUT_ENV"):
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "-c", WEB_PROCESS], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert result.stdout.splitlines()[-3:] == ["reader's path without them", "interchange screens", "pictures"]


def test_the_worker_leaves_out_what_it_does_not_use(tmp_path):
    """The worker renders mails (so loads the URLs, and with them REST framework) and makes
    renditions: on SQLite, without HEIF uploads, psycopg and pillow-heif stay out of it too."""
    code = (
        "import sys, types\n"
        "from speakout import cli\n"
        "runner = types.ModuleType('speakout.worker')\n"
        "def run_worker(interval):\n"
        "    from django.urls import reverse\n"
        "    reverse('wagtailadmin_home')\n"
        "    import rest_framework.fields, willow.image  # noqa: F401\n"
        "    print(sorted(name for name in ('psycopg', 'pillow_heif') if sys.modules.get(name) is not None))\n"
        "    return 0\n"
        "runner.run_worker, runner.lower_priority = run_worker, lambda: None\n"
        "sys.modules['speakout.worker'] = runner\n"
        "sys.exit(cli.worker(None))\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "speakout.settings", "SPEAKOUT_DATA_DIR": str(tmp_path)}
    for name in ("DATABASE_URL", "REDIS_URL", "SPEAKOUT_ENV"):
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert result.stdout.splitlines()[-1] == "[]"


def test_settling_loads_the_urls_and_the_templates_then_freezes_what_start_up_made():
    """A full garbage collection in a web process or the worker walks only what its requests or
    tasks made, not the apps."""
    import gc

    from django.urls import get_resolver

    try:
        memory.settle()
        assert gc.get_freeze_count() > 0
        assert "url_patterns" in get_resolver().__dict__  # loaded
    finally:
        gc.unfreeze()
