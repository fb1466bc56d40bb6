"""Modules loaded on first use instead of at import.

allauth's MFA login stage imports its WebAuthn module whenever the URL configuration loads, and
that module imports fido2, which loads cryptography's Rust library: about 11 MB in every web
process (docs/production.md, "Memory"), though only a passkey sign-in or set-up uses it. Every
allauth module that needs it imports the module object (``from ...internal import auth``) and
reaches into it inside functions, so the module can wait for its first attribute.

``importlib.util.LazyLoader`` does this too, but before Python 3.12 it is not thread-safe (a
second thread may see the module half-run), and a web process serves from several threads; this
one loads under a lock.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
import types

LAZY_MODULES = ("allauth.mfa.webauthn.internal.auth",)

_lock = threading.RLock()
_loading: set[str] = set()


class _LazyModule(types.ModuleType):
    """A module whose code runs when an attribute it does not have yet is first asked for.

    Other threads asking meanwhile wait on the lock, then find it loaded. Dunder names (asked
    for by tools that look through ``sys.modules``) do not load it."""

    def __getattr__(self, name: str):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        with _lock:
            if type(self) is _LazyModule:
                if self.__name__ in _loading:  # asked for by its own code while it runs
                    raise AttributeError(f"partially loaded module {self.__name__!r} has no attribute {name!r}")
                _loading.add(self.__name__)
                try:
                    self.__spec__.loader.exec_module(self)
                    self.__class__ = types.ModuleType  # loaded: from now on, ordinary look-ups
                finally:
                    _loading.discard(self.__name__)
        return object.__getattribute__(self, name)


def defer(name: str) -> bool:
    """Put ``name`` in ``sys.modules`` unloaded; False if it is already imported or not found."""
    if name in sys.modules:
        return False
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        return False
    module = importlib.util.module_from_spec(spec)
    module.__class__ = _LazyModule
    sys.modules[name] = module
    parent, _dot, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)
    return True


def defer_all() -> None:
    for name in LAZY_MODULES:
        defer(name)
