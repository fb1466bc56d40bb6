"""``Setting``: one app setting of an ``AppSettings`` class, read when accessed so override_settings works.

    class AppSettings:
        prefix = "SPEAKOUT_EMBED_"
        #: Seconds a sign-in token handed to a widget stays valid.
        SIGNIN_MAX_AGE = Setting(3600)

reads ``settings.SPEAKOUT_EMBED_SIGNIN_MAX_AGE`` (else 3600) each time. It is a ``property``, so
the class reads as allauth's app settings do and tests can list the settings it has.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar, overload

from django.conf import settings

T = TypeVar("T")


class Setting(property, Generic[T]):
    def __init__(self, default: T, convert: Callable[[Any], T] | None = None, *, name: str = "") -> None:
        """``convert`` shapes the value read; ``name`` is the full setting's name when it does
        not follow the class's ``prefix``."""
        super().__init__(self._read)
        self.default, self.convert, self.name = default, convert, name

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = self.name or getattr(owner, "prefix", "") + name

    def _read(self, instance: object) -> T:
        value = getattr(settings, self.name, self.default)
        return self.convert(value) if self.convert is not None else value

    @overload
    def __get__(self, instance: None, owner: type | None = None, /) -> Setting[T]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None, /) -> T: ...

    def __get__(self, instance: object | None, owner: type | None = None, /) -> Setting[T] | T:
        return self if instance is None else self._read(instance)
