"""Named version counters every process of the site shares, so a change made anywhere (a web
process, the worker's scheduled unpublishing, an import or purge command) is seen by every web
process on its next request. A cached page records the versions it was built from and is served
only while all of them stand; a change bumps its name ("content", "thread:<key hash>", ...).

They live in symbolic links in the data folder (``FileVersions``, ``SPEAKOUT_PAGE_CACHE_VERSIONS_DIR``),
which the web processes, the worker and every command share: without Redis the default cache is
each process's own, and with SQLite every process is on one host, where a hit reads the files
faster than it asks Redis. With PostgreSQL and Redis (several hosts) they live in Redis.

A counter that is missing (never set, or evicted) starts again at the current time in
microseconds, which is above any value it can have held before, so an evicted counter can never
make an old page valid again.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import secrets
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from django.core.cache import cache
from django.db import transaction

from . import app_settings

PREFIX = "speakout:version:"

logger = logging.getLogger(__name__)


def key(name: str) -> str:
    return PREFIX + name


def _fresh() -> int:
    return time.time_ns() // 1000


class FileVersions:
    """The counters as one symbolic link each, whose target is the value: read with one
    ``readlink`` (a hit reads every counter of its page; opening and reading a file took three
    calls and twice the time), replaced whole by rename, so a reader sees the old value or the
    new one. A bump writes a new value that was never used (the time in nanoseconds and a random
    part), so two processes bumping at once cannot undo each other."""

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)
        self._paths: dict[str, str] = {}

    def _path(self, version_key: str) -> str:
        path = self._paths.get(version_key)
        if path is None:
            if len(self._paths) > 10_000:  # one per thread read: a bound, not an LRU
                self._paths.clear()
            digest = hashlib.sha1(version_key.encode(), usedforsecurity=False).hexdigest()
            # ".link": a name apart from the plain file the earlier release kept the counter
            # in, which a process of that release (running until the restart) reads and makes.
            path = self._paths[version_key] = os.path.join(self.directory, f"{digest}.link")
        return path

    def get_many(self, keys) -> dict:
        keys = list(keys)
        values = self._read([self._path(key) for key in keys])
        return {key: value for key, value in zip(keys, values, strict=True) if value is not None}

    def reader(self, keys) -> Callable[[], list]:
        """A function that reads these counters, in order (None where missing)."""
        return functools.partial(self._read, [self._path(key) for key in keys])

    @staticmethod
    def _read(paths) -> list:
        # Read on every cache hit: plain os calls cost a seventh of pathlib's.
        found = []
        for path in paths:
            try:
                found.append(int(os.readlink(path)))
            except (OSError, ValueError):  # missing, or not a link holding a number
                found.append(None)
        return found

    @staticmethod
    def _new_value() -> int:
        return time.time_ns() * 1000 + secrets.randbelow(1000)

    def _written(self, value: int) -> str:
        """A new link holding ``value`` under a temporary name, to be renamed into place."""
        self.directory.mkdir(parents=True, exist_ok=True)
        while True:
            name = os.path.join(self.directory, f".new-{secrets.token_hex(8)}")
            try:
                os.symlink(str(value), name)
                return name
            except FileExistsError:  # another writer's temporary name: draw again
                continue

    def add(self, version_key: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        try:
            # Only if missing: another process may be first, and its value stands.
            os.symlink(str(self._new_value()), self._path(version_key))
        except FileExistsError:
            pass

    def bump(self, version_key: str) -> None:
        os.replace(self._written(self._new_value()), self._path(version_key))

    def clear(self) -> None:
        for path in self.directory.glob("[!.]*"):  # not a file another process is writing
            path.unlink(missing_ok=True)

    def tidy(self, older_than: float) -> int:
        """Delete what no process of this release reads and none has changed for ``older_than``
        seconds: the earlier release's plain files (read only by its processes, which change
        them when they bump) and temporary links a process killed mid-bump left. Returns how many."""
        cutoff = time.time() - older_than
        removed = 0
        try:
            entries = list(os.scandir(self.directory))
        except FileNotFoundError:
            return 0
        for entry in entries:
            ours = entry.name.endswith(".link") and entry.is_symlink()
            try:
                if not ours and entry.stat(follow_symlinks=False).st_mtime < cutoff:
                    os.unlink(entry.path)
                    removed += 1
            except FileNotFoundError:  # another worker's tidy, or a rename, got there first
                continue
        return removed


_file_versions: dict[str, FileVersions] = {}


def file_versions() -> FileVersions | None:
    """The shared files, or None when the counters live in the shared cache (Redis)."""
    directory = app_settings.VERSIONS_DIR
    if not directory:
        return None
    store = _file_versions.get(str(directory))
    if store is None:
        store = _file_versions[str(directory)] = FileVersions(directory)
    return store


def reader(keys) -> Callable[[], list]:
    """A function that reads the counters under these keys, in order (None where missing), from
    where they live now: for a check repeated on every hit, with the keys prepared once."""
    files = file_versions()
    if files is not None:
        return files.reader(keys)
    make = getattr(cache, "reader", None)  # net/rediscache.py's: one MGET, keys made once
    if make is not None:
        return make(keys)
    keys = list(keys)

    def read() -> list:
        found = cache.get_many(keys)
        return [found.get(name) for name in keys]

    return read


def current(names: Iterable[str]) -> dict[str, int]:
    names = list(names)
    files = file_versions()
    keys = [key(name) for name in names]
    found = files.get_many(keys) if files is not None else cache.get_many(keys)
    result = {}
    for name in names:
        value = found.get(key(name))
        if value is None:
            if files is not None:
                files.add(key(name))
                value = files.get_many([key(name)]).get(key(name))
                if value is None:  # something unreadable in its place: a new value replaces it
                    files.bump(key(name))
                    value = files.get_many([key(name)])[key(name)]
            else:
                cache.add(key(name), _fresh(), timeout=None)
                value = cache.get(key(name))
        result[name] = value
    return result


def bump_now(*names: str) -> None:
    files = file_versions()
    for name in names:
        if files is not None:
            files.bump(key(name))
            continue
        try:
            cache.incr(key(name))
        except ValueError:  # missing: start above anything it held
            cache.set(key(name), _fresh(), timeout=None)


def bump_at_commit(*names: str) -> None:
    """Bump once the current transaction commits (at once outside one). What committed stays
    committed whatever happens here, so a failure (a full disk, Redis gone) is logged rather than
    raised: the request that stored the change must not answer that it failed. Pages read under
    the old version then stay until the next change of the same name."""
    transaction.on_commit(functools.partial(_bump_committed, names))


def _bump_committed(names: tuple[str, ...]) -> None:
    try:
        bump_now(*names)
    except Exception:
        logger.exception("Could not retire the cached pages of %s after a commit", ", ".join(names))


def bump(*names: str) -> None:
    """Bump now and again when the surrounding transaction commits: a page rendered between the
    two from data not yet committed carries the first bump's value, so the second retires it."""
    bump_now(*names)
    if transaction.get_connection().in_atomic_block:
        bump_at_commit(*names)
