"""Dependencies between apps point one way (DESIGN.md): no import cycle between apps, the
discussion imports no Wagtail module and none of the apps that plug into it, and no app imports
the worker (the runner)."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2] / "speakout"
APPS = sorted(path.name for path in ROOT.iterdir() if (path / "__init__.py").exists())
#: What the discussion may import besides Django and libraries.
DISCUSSION_MAY_IMPORT = {"net", "pagecache"}


def imports(path: Path) -> list[tuple[str, int]]:
    """Every module ``path`` imports (at the top or inside a function), with its line."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module, node.lineno))
            if node.module == "speakout":
                found += [(f"speakout.{alias.name}", node.lineno) for alias in node.names]
    return found


def app_graph() -> dict[str, dict[str, list[str]]]:
    """{app: {imported app or module: ["file:line", ...]}} for Speakout's own packages."""
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for module, line in imports(path):
                parts = module.split(".")
                if parts[0] == "speakout" and len(parts) > 1 and parts[1] != app:
                    graph[app][parts[1]].append(f"{path.relative_to(ROOT)}:{line}")
    return graph


def cycles(graph: dict[str, dict[str, list[str]]]) -> list[list[str]]:
    """Every cycle between apps, each as the path that closes it."""
    found, done = [], set()

    def visit(app: str, trail: list[str]) -> None:
        if app in trail:
            found.append(trail[trail.index(app) :] + [app])
            return
        if app in done:
            return
        for other in graph.get(app, {}):
            visit(other, trail + [app])
        done.add(app)

    for app in sorted(graph):
        visit(app, [])
    return found


def test_no_import_cycle_between_apps():
    graph = app_graph()
    assert [" -> ".join(cycle) + f" (first: {graph[cycle[0]][cycle[1]][0]})" for cycle in cycles(graph)] == []


def test_the_cycle_finder_finds_one():
    """The check above can fail: a graph with a loop through three apps is caught."""
    graph = {"a": {"b": ["a.py:1"]}, "b": {"c": ["b.py:1"]}, "c": {"a": ["c.py:1"]}}
    assert cycles(graph) == [["a", "b", "c", "a"]]


def test_discussion_imports_no_wagtail_and_no_app_that_plugs_into_it():
    offenders = []
    for path in (ROOT / "discussion").rglob("*.py"):
        for module, line in imports(path):
            parts = module.split(".")
            plug_in = parts[0] == "speakout" and len(parts) > 1 and parts[1] not in DISCUSSION_MAY_IMPORT
            if parts[0] in ("wagtail", "treebeard", "modelcluster") or (plug_in and parts[1] != "discussion"):
                offenders.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert offenders == []


def test_no_app_imports_the_worker():
    graph = app_graph()
    assert {app: places["worker"] for app, places in graph.items() if "worker" in places} == {}


def test_the_page_cache_is_told_the_discussion_s_guest_cookie_and_header():
    """The page cache imports no app: the project's settings name what marks a guest."""
    from speakout.discussion.api import GUEST_HEADER
    from speakout.discussion.app_settings import GUEST_COOKIE_NAME as GUEST_COOKIE
    from speakout.pagecache import app_settings

    assert GUEST_COOKIE not in app_settings.NEUTRAL_COOKIES  # a guest's request passes the cache by
    assert "HTTP_" + GUEST_HEADER.upper().replace("-", "_") in settings.SPEAKOUT_PAGE_CACHE_PERSONAL_HEADERS
    assert "/discussion/" in settings.SPEAKOUT_PAGE_CACHE_EXCLUDED_PREFIXES


def test_the_theme_is_told_every_json_api():
    """The theme's NUL guard answers the JSON APIs in JSON without importing the embed app."""
    from speakout.embed.middleware import embed_prefixes

    expected = {"/embed/api/" if prefix == "/embed/" else prefix for prefix, _credentials in embed_prefixes()}
    assert set(settings.SPEAKOUT_THEME_JSON_PREFIXES) == expected
