"""What an import did: counts by kind and outcome, replies by status, and every skip with why."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

NAME_CUT = _("the name was cut to %(max)s characters")


@dataclass
class ImportResult:
    format: str = ""
    dry_run: bool = False
    # ("report", "created") → 3; ("reply", "approved") → 10; ...
    counts: Counter = field(default_factory=Counter)
    replies_by_status: Counter = field(default_factory=Counter)
    replies_by_kind: Counter = field(default_factory=Counter)
    max_depth: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)

    def count(self, kind: str, outcome: str, n: int = 1) -> None:
        self.counts[f"{kind}.{outcome}"] += n

    def skip(self, what: str, why: str) -> None:
        self.skipped.append((what, why))

    def note(self, what: str, why: str) -> None:
        self.notes.append((what, why))

    def cut(self, what: str, value: str, limit: int, why) -> str:
        """``value`` within ``limit`` characters; a longer one is cut and noted with ``why``,
        which may name ``%(max)s`` and the kept ``%(value)s``."""
        if len(value) > limit:
            self.note(what, why % {"max": limit, "value": value[:limit]})
        return value[:limit]

    def get(self, kind: str, outcome: str) -> int:
        return self.counts.get(f"{kind}.{outcome}", 0)

    def as_dict(self) -> dict:
        return {
            "format": self.format,
            "dry_run": self.dry_run,
            "counts": dict(sorted(self.counts.items())),
            "replies_by_status": dict(sorted(self.replies_by_status.items())),
            "replies_by_kind": dict(sorted(self.replies_by_kind.items())),
            "max_depth": self.max_depth,
            "skipped": [list(item) for item in self.skipped],
            "notes": [list(item) for item in self.notes],
        }
