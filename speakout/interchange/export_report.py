"""What a WXR export wrote, and what WordPress will refuse or change when it imports the file.

``speakout export`` prints it and the admin's Export screen shows it. The rules that predict
WordPress's behaviour (``wordpress_accepts_email``) follow WordPress's own functions; the test
against Debian's WordPress package checks them there.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

# PHP's `$` also matches before a final newline, like Python's: WordPress's own patterns.
_LOCAL_PART = re.compile(r"^[a-zA-Z0-9!#$%&'*+/=?^_`{|}~.-]+$")
_DOMAIN_LABEL = re.compile(r"^[a-z0-9-]+$", re.I)
_PHP_TRIM = " \t\n\r\0\x0b"


def wordpress_accepts_email(address: str) -> bool:
    """WordPress's is_email(), step by step: e.g. `admin@localhost` (no dot in the domain) fails."""
    if len(address.encode("utf-8")) < 6 or "@" not in address[1:]:
        return False
    local, domain = address.split("@", 1)
    if not _LOCAL_PART.match(local) or ".." in domain or domain.strip(_PHP_TRIM + ".") != domain:
        return False
    labels = domain.split(".")
    if len(labels) < 2:
        return False
    return all(label.strip(_PHP_TRIM + "-") == label and _DOMAIN_LABEL.match(label) for label in labels)


@dataclass
class ExportReport:
    counts: Counter = field(default_factory=Counter)
    replies_by_status: Counter = field(default_factory=Counter)
    # (what, why): what WordPress will refuse or change, or what the export had to change.
    warnings: list[tuple[str, str]] = field(default_factory=list)

    def warn(self, what: str, why: str) -> None:
        self.warnings.append((what, why))

    def lines(self) -> list[str]:
        counts = self.counts
        lines = [
            _("Posts (reports): %(count)s") % {"count": counts["post"]},
            _("Pages: %(count)s") % {"count": counts["page"]},
            _("Authors: %(bylines)s and %(accounts)s")
            % {
                "bylines": ngettext("%(count)s byline", "%(count)s bylines", counts["byline"])
                % {"count": counts["byline"]},
                "accounts": ngettext("%(count)s account", "%(count)s accounts", counts["account"])
                % {"count": counts["account"]},
            },
            _("Categories: %(categories)s, tags: %(tags)s") % {"categories": counts["category"], "tags": counts["tag"]},
            _("Replies: %(count)s") % {"count": counts["reply"]},
        ]
        if self.replies_by_status:
            statuses = ", ".join(f"{status} {count}" for status, count in sorted(self.replies_by_status.items()))
            lines.append(_("Replies by status: %(statuses)s") % {"statuses": statuses})
        if counts["external_thread"]:
            lines.append(
                ngettext(
                    "Not in the file: %(count)s external thread (WXR has no place for it; the JSON export has it)",
                    "Not in the file: %(count)s external threads (WXR has no place for them; the JSON export has them)",
                    counts["external_thread"],
                )
                % {"count": counts["external_thread"]}
            )
        lines.append(_("For WordPress to know: %(count)s") % {"count": len(self.warnings)})
        lines.extend(f"  - {what}: {why}" for what, why in self.warnings)
        return lines
