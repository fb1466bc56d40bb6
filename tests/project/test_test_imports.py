"""No test module imports another (issue 22): what tests share lives in helper modules
(``helpers.py``, ``catalogs.py``, ``conftest.py``), so running or moving one test file never
collects, runs or breaks another's tests, and a test module's names are its own to change."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent


def _module_of(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def _is_test_module(module: str) -> bool:
    """Whether ``module`` (dotted, from the project's root) is a ``tests/**/test_*.py`` file."""
    path = ROOT.joinpath(*module.split("."))
    return path.name.startswith("test_") and path.with_suffix(".py").is_file()


def imported_modules(path: Path) -> list[tuple[str, int]]:
    """Every module ``path`` imports, at the top or inside a function, relative imports resolved;
    for ``from package import name`` also ``package.name``, which may be a module."""
    package = _module_of(path).split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            found.append((module, node.lineno))
            found += [(f"{module}.{alias.name}", node.lineno) for alias in node.names]
    return found


def test_no_test_module_imports_another():
    offending = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in sorted(TESTS.rglob("*.py"))
        for module, line in imported_modules(path)
        if _is_test_module(module) and ROOT.joinpath(*module.split(".")).with_suffix(".py") != path
    ]
    assert not offending, "move what they share into a helpers module:\n" + "\n".join(offending)


def test_the_check_sees_every_spelling_of_such_an_import(tmp_path, monkeypatch):
    """The check itself can fail: an absolute, a relative and a function-level import of a test
    module, and a test module imported by name from its package."""
    source = (
        "from tests.theme.test_i18n import parse_po\n"
        "from .test_delivery import Inbox\n"
        "from tests.privacy import test_manage_account\n"
        "def f():\n    import tests.project.test_worker\n"
        "from tests.privacy.helpers import EMAIL\n"
    )
    path = TESTS / "federation" / "test_probe_not_collected.py"
    monkeypatch.setattr(Path, "read_text", lambda self, *args, **kwargs: source)
    found = [module for module, _line in imported_modules(path) if _is_test_module(module)]
    assert found == [
        "tests.theme.test_i18n",
        "tests.federation.test_delivery",
        "tests.privacy.test_manage_account",
        "tests.project.test_worker",
    ]
