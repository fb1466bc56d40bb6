"""The files an import brings: WordPress's uploads as a folder or as the ``.tar`` archive that
WordPress.com's "Export media library" downloads, and files fetched from the old site.

Every file goes through ``clean_file`` before it is stored: an image is decoded and encoded
again with Pillow (a file that only claims to be an image, an SVG or anything with a script in
it does not survive, and neither does the camera's metadata, which may hold where a photo was
taken); another file is kept only if its extension is one Wagtail serves as a document. What is
not brought in stays a plain link to its old address: nothing on a page loads from another site.

Fetching (``fetch_media``) happens before the import's transaction, into a private cache named
by each address's hash, so an interrupted run resumes where it stopped and a second run fetches
nothing it already has; the import then reads the cache as it reads a media folder.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import secrets
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .errors import ImportFailed

IMAGE_FORMATS = {"JPEG": ".jpg", "PNG": ".png", "GIF": ".gif", "WEBP": ".webp"}
IMAGE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp"}
UPLOADS = "/wp-content/uploads/"
# WordPress's resized copies: "photo-300x200.jpg" is "photo.jpg" made smaller.
SIZE_SUFFIX = re.compile(r"-\d+x\d+(?=\.[A-Za-z0-9]+$)")
FETCH_MAX_BYTES = 25 * 1024 * 1024
FETCH_TIMEOUT = 30.0


def uploads_path(url: str) -> str:
    """The path of a WordPress upload inside the uploads folder ("2024/01/photo.jpg")."""
    path = urlsplit(url).path
    if UPLOADS in path:
        return unquote(path.split(UPLOADS, 1)[1])
    return unquote(path.lstrip("/"))


def _uploads_root(folder: Path) -> Path:
    """Where the year folders start: an archive may wrap them in a folder or two."""
    for _depth in range(4):
        if (folder / "wp-content" / "uploads").is_dir():
            return folder / "wp-content" / "uploads"
        entries = [entry for entry in folder.iterdir() if not entry.name.startswith(".")]
        if len(entries) == 1 and entries[0].is_dir() and not entries[0].name.isdigit():
            folder = entries[0]
            continue
        break
    return folder


@contextmanager
def media_folder(path: str | Path | None) -> Iterator[Path | None]:
    """The uploads folder of ``path``: a folder as it is, a ``.tar`` (or ``.tar.gz``) unpacked
    into a scratch folder for the time of the import."""
    if path is None:
        yield None
        return
    path = Path(path)
    if path.is_dir():
        yield _uploads_root(path)
        return
    if not path.is_file():
        raise ImportFailed(_("The media folder %(path)s does not exist.") % {"path": path})
    if not tarfile.is_tarfile(path):
        raise ImportFailed(
            _("%(path)s is neither a folder nor a .tar archive (WordPress.com's media export).") % {"path": path}
        )
    scratch_folder().mkdir(parents=True, exist_ok=True, mode=0o700)
    with tempfile.TemporaryDirectory(prefix="speakout-media-", dir=scratch_folder()) as scratch:
        with tarfile.open(path) as archive:
            _check_size(archive)
            # The "data" filter refuses absolute names, "..", links out of the folder and devices.
            archive.extractall(scratch, filter="data")
        yield _uploads_root(Path(scratch))


def _check_size(archive: tarfile.TarFile) -> None:
    """Refuse an archive that would fill the disk before a byte of it is written: its headers say
    how much each member unpacks to (a compressed archive is read through once for them)."""
    from . import app_settings

    most_files, most_bytes, largest = (
        app_settings.MEDIA_MAX_FILES,
        app_settings.MEDIA_MAX_BYTES,
        app_settings.MEDIA_MAX_FILE_BYTES,
    )
    count = total = 0
    for member in archive:  # one header at a time: a million entries are refused at the first too many
        count += 1
        total += member.size
        if count > most_files:
            problem = ngettext(
                "The media archive holds more than %(count)s file (SPEAKOUT_IMPORT_MAX_MEDIA_FILES).",
                "The media archive holds more than %(count)s files (SPEAKOUT_IMPORT_MAX_MEDIA_FILES).",
                most_files,
            ) % {"count": most_files}
        elif member.size > largest:
            problem = _(
                "%(name)s in the media archive is larger than %(size)s (SPEAKOUT_IMPORT_MAX_MEDIA_FILE_MB)."
            ) % {"name": member.name[:200], "size": filesizeformat(largest)}
        elif total > most_bytes:
            problem = _("The media archive unpacks to more than %(size)s (SPEAKOUT_IMPORT_MAX_MEDIA_MB).") % {
                "size": filesizeformat(most_bytes)
            }
        else:
            continue
        raise ImportFailed(f"{problem} {_('Nothing was unpacked.')}")


@dataclass
class Cleaned:
    content: bytes
    name: str
    is_image: bool


def clean_file(data: bytes, name: str) -> Cleaned | None:
    """The file as it will be stored, or None when it is not one Speakout keeps."""
    from PIL import Image, UnidentifiedImageError

    stem, extension = os.path.splitext(os.path.basename(name))
    try:
        with Image.open(io.BytesIO(data)) as picture:
            kind = picture.format
            if kind not in IMAGE_FORMATS:
                return None
            frames = getattr(picture, "n_frames", 1)
            output = io.BytesIO()
            if kind == "GIF" and frames > 1:
                picture.save(output, format="GIF", save_all=True)
            else:
                picture.load()
                if kind == "JPEG" and picture.mode not in ("RGB", "L", "CMYK"):
                    picture = picture.convert("RGB")
                picture.save(output, format=kind)
            return Cleaned(output.getvalue(), (stem or "image") + IMAGE_FORMATS[kind], True)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        pass
    if extension.lower() in {f".{ext}" for ext in settings.WAGTAILDOCS_EXTENSIONS} and not _looks_like_markup(data):
        return Cleaned(data, os.path.basename(name), False)
    return None


def _looks_like_markup(data: bytes) -> bool:
    # A "document" that a browser would run as a page (HTML or SVG renamed .txt or .csv).
    head = data[:1024].lstrip().lower()
    return head.startswith((b"<!doctype", b"<html", b"<svg", b"<?xml", b"<script"))


# -- files of posts nobody outside may read ---------------------------------------------------

# Kept untranslated: the import finds it again by this name, whatever the language of the run.
PRIVATE_COLLECTION = "Imported, not public"


def private_collection():
    """The collection for the files of draft, pending, private and scheduled posts, made on first
    use with a view restriction that lets only the groups reaching the admin (and superusers)
    open a document in it. An editor who lifts the restriction later is not overruled."""
    from django.contrib.auth.models import Group
    from wagtail.models import Collection, CollectionViewRestriction

    root = Collection.get_first_root_node() or Collection.add_root(name="Root")
    found = root.get_children().filter(name=PRIVATE_COLLECTION).first()
    if found is None:
        found = root.add_child(name=PRIVATE_COLLECTION)
        restriction = CollectionViewRestriction.objects.create(
            collection=found, restriction_type=CollectionViewRestriction.GROUPS
        )
        restriction.groups.set(
            Group.objects.filter(
                permissions__codename="access_admin", permissions__content_type__app_label="wagtailadmin"
            )
        )
    return found


def unguessable_name(name: str) -> str:
    """A stored name that tells nothing of the old one: a picture's file is served by its address
    (by a front server too), so only its name keeps a draft's picture from being guessed."""
    return secrets.token_urlsafe(16) + os.path.splitext(name)[1]


# -- fetching -------------------------------------------------------------------------------


def cache_folder() -> Path:
    return Path(settings.SPEAKOUT_PRIVATE_DIR) / "import-media"


def scratch_folder() -> Path:
    """Where archives are unpacked for an import: on the data disk (the system's temporary folder
    is often small or in memory), and swept of what a crashed worker left (``leftovers``)."""
    return Path(settings.SPEAKOUT_PRIVATE_DIR) / "import-scratch"


def cached(url: str) -> Path:
    return cache_folder() / hashlib.sha256(url.encode()).hexdigest()


@dataclass
class FetchReport:
    fetched: int = 0
    already: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)


def fetch_media(
    urls: list[str], on_progress: Callable[[int, int, str], None] | None = None, *, dry_run: bool = False
) -> FetchReport:
    """Fetch each address through the SSRF-safe fetcher into the private cache; what is there
    already is not fetched again."""
    from speakout.net.fetch import FetchRefused, fetch

    from . import app_settings

    report = FetchReport()
    # What the cache holds for this import, kept within the media limit as an archive is.
    held, most = 0, app_settings.MEDIA_MAX_BYTES
    full = _("the fetched files reached %(size)s (SPEAKOUT_IMPORT_MAX_MEDIA_MB)") % {"size": filesizeformat(most)}
    folder = cache_folder()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    for number, url in enumerate(urls, 1):
        if on_progress is not None:
            on_progress(number, len(urls), url)
        target = cached(url)
        if target.is_file():
            # Used again: the leftover sweep keeps what an import used in its last N days.
            target.touch()
            report.already += 1
            held += target.stat().st_size
            continue
        if dry_run:
            continue
        if held >= most:
            report.failed.append((url, full))
            continue
        try:
            answer = fetch(url, max_bytes=FETCH_MAX_BYTES, timeout=FETCH_TIMEOUT)
        except FetchRefused as error:
            report.failed.append((url, str(error)))
            continue
        content_type = answer.content_type.split(";", 1)[0].strip().lower()
        if answer.status != 200:
            report.failed.append((url, _("the old site answered %(status)s") % {"status": answer.status}))
            continue
        if content_type not in IMAGE_TYPES and not _document_type(content_type, url):
            report.failed.append((url, _("its type %(type)s is not an image or a document") % {"type": content_type}))
            continue
        partial = target.with_suffix(".partial")
        partial.write_bytes(answer.body)
        held += len(answer.body)
        partial.replace(target)
        target.with_suffix(".json").write_text(json.dumps({"url": url, "type": content_type}))
        report.fetched += 1
    return report


def _document_type(content_type: str, url: str) -> bool:
    extension = os.path.splitext(urlsplit(url).path)[1].lower().lstrip(".")
    return extension in settings.WAGTAILDOCS_EXTENSIONS and not content_type.startswith(("text/html", "image/svg"))
