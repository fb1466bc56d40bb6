"""WordPress.com's subscriber list as CSV (Users → Subscribers → "Download subscribers as CSV"),
read into new-post subscriptions and written back in the same shape.

WordPress.com does not publish the file's exact header, so columns are found by name, in any
order and case (docs/interchange.md, "Subscribers"): an address (``email``), the date the person
subscribed (``since``, ``date_subscribed``...) and their email subscription status
(``email subscription``, ``status``...: "Subscribed", "Not confirmed", "Not subscribed",
"Not sending"). A file with no status column lists subscribers only, so each row counts as
subscribed.

Importing sends nobody mail: a confirmed subscriber becomes a confirmed new-post subscription as
it is, an unconfirmed one is left out (or, when asked, gets our one confirmation mail), and an
address that unsubscribed here is never subscribed again by an import.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from speakout.spreadsheets import read_cell, safe_cell

from .models import Subscription
from .services import Kind, normalise_email, open_subscription, send_confirmation

EMAIL_COLUMNS = ("email", "email address", "email_address", "subscriber email", "user_email")
DATE_COLUMNS = ("since", "date_subscribed", "date subscribed", "subscribed", "subscribe date", "date", "created")
STATUS_COLUMNS = ("email subscription", "email_subscription", "status", "subscription status", "confirmed")
CONFIRMED = {"subscribed", "confirmed", "active", "yes", "true", "1"}
UNCONFIRMED = {"not confirmed", "unconfirmed", "pending", "no", "false", "0"}
HEADER = ["Email", "Since", "Email subscription"]


@dataclass
class SubscriberImport:
    counts: Counter = field(default_factory=Counter)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def lines(self) -> list[str]:
        lines = [f"{what}: {count}" for what, count in sorted(self.counts.items())]
        if self.skipped:
            lines.append(f"Skipped: {len(self.skipped)}")
            lines += [f"  - line {line}: {why}" for line, why in self.skipped]
        return lines


class SubscriberFileError(ValueError):
    """The file is not a subscriber list; nothing was imported."""


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    wanted = [name.strip().lower() for name in header]
    return next((wanted.index(name) for name in names if name in wanted), None)


def _when(value: str) -> datetime | None:
    value = (value or "").strip()
    moment = parse_datetime(value.replace(" UTC", "").replace("Z", "+00:00")) if value else None
    if moment is None and value:
        day = parse_date(value[:10])
        moment = datetime.combine(day, time(12)) if day else None
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_fixed_timezone(0))
    return moment


def import_subscribers(text: str, *, send_confirmations: bool = False, dry_run: bool = False) -> SubscriberImport:
    """Read a subscriber CSV; see the module docstring. All or nothing, idempotent."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    if not rows:
        raise SubscriberFileError("The file is empty.")
    header = rows[0]
    email_at = _column(header, EMAIL_COLUMNS)
    if email_at is None:
        raise SubscriberFileError("The first line names no email column (expected a header such as “Email”).")
    date_at, status_at = _column(header, DATE_COLUMNS), _column(header, STATUS_COLUMNS)
    result = SubscriberImport()
    now = timezone.now()
    with transaction.atomic():
        for number, row in enumerate(rows[1:], 2):
            if not any(cell.strip() for cell in row):
                continue
            cell = read_cell(row[email_at]) if email_at < len(row) else ""
            try:
                email = normalise_email(cell)
            except ValueError:
                result.skipped.append((number, "not a valid email address"))
                continue
            status = (row[status_at] if status_at is not None and status_at < len(row) else "subscribed").strip()
            since = _when(row[date_at]) if date_at is not None and date_at < len(row) else None
            confirmed = status.lower() in CONFIRMED
            if not confirmed and status.lower() not in UNCONFIRMED:
                result.counts["left out (receives no mail there)"] += 1
                continue
            target = Subscription.target_for(Kind.POSTS)
            rows_here = Subscription.objects.filter(email=email, target=target)
            current = rows_here.filter(unsubscribed_at__isnull=True).first()
            if current is None and rows_here.exists():
                result.counts["unsubscribed here, left out"] += 1
                continue
            if current is not None and current.confirmed_at is not None:
                result.counts["already subscribed"] += 1
                continue
            if not confirmed and not send_confirmations:
                result.counts["not confirmed, left out"] += 1
                continue
            subscription = current or open_subscription(email, kind=Kind.POSTS)
            if confirmed:
                moment = min(since or now, now)
                Subscription.objects.filter(pk=subscription.pk).update(confirmed_at=moment, created_at=moment)
                result.counts["subscribed (confirmed, no mail sent)"] += 1
            else:
                send_confirmation(subscription)
                result.counts["sent a confirmation mail"] += 1
        if dry_run:
            transaction.set_rollback(True)
    return result


def export_subscribers(stream) -> int:
    """Write the new-post subscribers (confirmed and waiting) in the shape ``import_subscribers``
    reads; returns the number of rows."""
    writer = csv.writer(stream)
    writer.writerow(HEADER)
    count = 0
    rows = Subscription.objects.filter(kind=Kind.POSTS, category="", unsubscribed_at__isnull=True).order_by("pk")
    for subscription in rows.iterator():
        moment = subscription.confirmed_at or subscription.created_at
        status = "Subscribed" if subscription.confirmed_at else "Not confirmed"
        when = moment.astimezone(timezone.get_fixed_timezone(0)).isoformat()
        writer.writerow([safe_cell(subscription.email), when, status])
        count += 1
    return count
