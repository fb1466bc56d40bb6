"""Dates as export files write them."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from django.utils import timezone

_WP_DATE = re.compile(r"(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)")


def parse_wp(value: str, *, utc: bool) -> datetime | None:
    """``2024-03-01 10:00:00`` (WordPress writes zeros for "no date"); ``utc`` says which clock."""
    value = (value or "").strip()
    if not value or value.startswith("0000"):
        return None
    try:
        # The usual, zero-padded form without strptime, which is slow for 100,000 replies.
        if _WP_DATE.match(value):
            naive = datetime(*map(int, _WP_DATE.match(value).groups()))
        else:
            naive = datetime.strptime(value[:19], "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    if utc:
        return naive.replace(tzinfo=UTC)
    return timezone.make_aware(naive, timezone.get_default_timezone())


def parse_rfc822(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime((value or "").strip())
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None or parsed.year < 1971:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_iso(value: str) -> datetime | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
