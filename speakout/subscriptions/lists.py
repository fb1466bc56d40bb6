"""The lists of new posts a reader can choose: everything, or one category at a time.

The app that owns the categories registers where they come from (``register``; the publishing
app passes its Category snippets from its ``ready()``), so this app imports none of it. Each
category is its own list: a subscription row per category, confirmed and unsubscribed alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

_sources: list[Callable[[], Iterable[tuple[str, str]]]] = []


def register(source: Callable[[], Iterable[tuple[str, str]]]) -> None:
    """Add a source of ``(slug, name)`` pairs, read each time a form is built."""
    if source not in _sources:
        _sources.append(source)


def categories() -> list[tuple[str, str]]:
    """Every category a reader may subscribe to, as ``(slug, name)``, by name."""
    found: dict[str, str] = {}
    for source in _sources:
        for slug, name in source():
            found.setdefault(slug, name)
    return sorted(found.items(), key=lambda item: item[1].casefold())
