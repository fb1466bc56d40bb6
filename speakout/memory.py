"""What a long-running Speakout process holds: glibc malloc settings (web processes and the
worker), libraries the web processes leave out, and the start-up objects both freeze out of the
garbage collector's full collections (``settle``).

A web process serves from several threads, and glibc gives each thread that meets a locked
allocator an arena of its own (up to eight per core), each keeping freed memory for later.
Pages of a long thread are built as strings of a few hundred KB; above glibc's starting mmap
threshold (128 KB) they are mapped and unmapped, but the first such free raises the threshold
for good, after which they come from the arenas and leave holes. So: two arenas and a fixed mmap
threshold (which also stops that adjustment). The thresholds sit above a page's size (pages stay
under 250 KB, docs/benchmarks.md): at 64 KB for mmap and 128 KB for trimming, every page's strings
were mapped, unmapped and trimmed again: about 3 ms more CPU a signed-in report page (12.6-13.5
against 8-10 ms in the server) for 2-3 MB less per process.

Applied with ``mallopt`` when the process starts; an environment variable of glibc's
(``MALLOC_ARENA_MAX``, ``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_``) wins, and
``SPEAKOUT_MALLOC_TUNING=no`` leaves glibc's defaults. Elsewhere than glibc it does nothing.

Some libraries are imported by others only because they are installed, and load native code into
every process that nothing in Speakout's configuration uses: Willow (Wagtail's images) imports
pillow-heif's HEIF codecs (libheif, libx265), though HEIF is not among the image types Speakout
accepts; REST framework (Wagtail's admin APIs) imports ``django.contrib.postgres``, and with it
psycopg and its own copy of libcrypto, on SQLite too. Both libraries import them as optional (an
``ImportError`` leaves them out), so ``leave_out_unused_libraries`` marks them as missing
(``sys.modules[name] = None``, Python's documented way to make an import fail) before Django
starts; ``speakout.wsgi`` does so for the web processes: about 16 MB less a process at start
(docs/production.md, "Memory").
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import sys
from collections.abc import Iterable, Mapping
from typing import Any

# mallopt parameters (glibc malloc.h) and the values used.
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -3, -8
SETTINGS = (
    (M_ARENA_MAX, "MALLOC_ARENA_MAX", 2),
    (M_MMAP_THRESHOLD, "MALLOC_MMAP_THRESHOLD_", 1024 * 1024),
    (M_TRIM_THRESHOLD, "MALLOC_TRIM_THRESHOLD_", 4 * 1024 * 1024),
)
_done = False


def tune() -> bool:
    """Apply the settings once; False if nothing was applied."""
    global _done
    if _done or os.environ.get("SPEAKOUT_MALLOC_TUNING", "yes").lower() in ("no", "0", "false", "off"):
        return False
    _done = True
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    applied = False
    for parameter, variable, value in SETTINGS:
        if variable not in os.environ:
            applied = bool(mallopt(parameter, value)) or applied
    return applied


# Engines whose Django backend needs psycopg (dj-database-url's names for PostgreSQL and PostGIS).
POSTGRES_ENGINES = ("postgresql", "postgis")


def unused_libraries(databases: Mapping[str, Mapping[str, Any]], image_extensions: Iterable[str]) -> list[str]:
    """The optional libraries nothing in this configuration uses (see the module's docstring)."""
    unused = []
    if not {"heic", "heif"} & {extension.lower() for extension in image_extensions}:
        unused.append("pillow_heif")
    engines = [str(database.get("ENGINE", "")) for database in databases.values()]
    if not any(postgres in engine for engine in engines for postgres in POSTGRES_ENGINES):
        unused += ["psycopg", "psycopg2"]
    return unused


def leave_out_unused_libraries(settings: Any) -> list[str]:
    """Mark the unused libraries as missing, before Django starts; returns those marked (one
    already imported stays)."""
    marked = []
    for name in unused_libraries(settings.DATABASES, getattr(settings, "WAGTAILIMAGES_EXTENSIONS", ())):
        if name not in sys.modules:
            sys.modules[name] = None  # type: ignore[assignment]
            marked.append(name)
    return marked


def settle() -> None:
    """Load what a long-running process needs for its whole life (the URL configuration, the
    template engines and their tag libraries), then leave every object made so far out of the
    garbage collector's full collections (``gc.freeze``). Called once Django is set up, by the web
    processes (``speakout.wsgi``) and the worker: each full collection otherwise walked the loaded
    apps' 180,000-odd objects, about 0.1 s of CPU, to free none of them (docs/production.md)."""
    from django.template import engines
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018  (imports the URL configuration)
    engines.all()
    gc.collect()  # what start-up left as garbage is freed, not frozen
    gc.freeze()
