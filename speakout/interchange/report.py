"""An import result as lines a person reads (the command's output and the admin screen)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from .result import ImportResult


def summary_lines(result: dict | ImportResult) -> list[str]:
    data = result.as_dict() if isinstance(result, ImportResult) else result
    lines = []
    if data.get("dry_run"):
        lines.append(_("Dry run: nothing was saved. This is what the import would do."))
    for key, count in data.get("counts", {}).items():
        kind, outcome = key.split(".", 1)
        lines.append(_("%(kind)s %(outcome)s: %(count)s") % {"kind": kind, "outcome": outcome, "count": count})
    if data.get("replies_by_status"):
        statuses = ", ".join(f"{status} {count}" for status, count in data["replies_by_status"].items())
        lines.append(_("Replies by status: %(statuses)s") % {"statuses": statuses})
    if data.get("replies_by_kind"):
        kinds = ", ".join(f"{kind} {count}" for kind, count in data["replies_by_kind"].items())
        lines.append(_("Replies by kind: %(kinds)s") % {"kinds": kinds})
        lines.append(_("Deepest reply: level %(depth)s") % {"depth": data.get("max_depth", 0)})
    skipped = data.get("skipped", [])
    lines.append(_("Skipped: %(count)s") % {"count": len(skipped)})
    lines.extend(f"  - {what}: {why}" for what, why in skipped)
    lines.extend(f"  * {what}: {why}" for what, why in data.get("notes", []))
    return lines
