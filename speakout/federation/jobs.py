"""Scheduled jobs of the federation, run by the worker's clock (see speakout.worker)."""

from __future__ import annotations

from django.conf import settings


def schedule() -> list[tuple[str, int, str]]:
    """What the worker's clock runs for this app: (name, every N seconds, dotted path)."""
    return [
        # Retries, and deliveries whose worker died mid-send.
        ("federation_deliveries", settings.SPEAKOUT_OUTBOX_SWEEP_SECONDS, "speakout.federation.delivery.deliver_due"),
        # The log and the deleted notes' tombstones keep a bounded past (LOG_RETENTION_DAYS,
        # TOMBSTONE_RETENTION_DAYS); accounts nothing here needs any more are forgotten.
        ("federation_log_prune", 3600, f"{__name__}.prune_log"),
    ]


def prune_log() -> int:
    """Drop log entries and deleted notes' tombstones older than their retention, and the accounts
    nothing refers to (``forget_unneeded_actors``); returns how many rows went."""
    from datetime import timedelta

    from django.utils import timezone

    from .app_settings import app_settings
    from .models import ActivityLog, NoteTombstone

    now = timezone.now()
    logged, _by_model = ActivityLog.objects.filter(
        created_at__lt=now - timedelta(days=app_settings.LOG_RETENTION_DAYS)
    ).delete()
    tombstones, _by_model = NoteTombstone.objects.filter(
        deleted_at__lt=now - timedelta(days=app_settings.TOMBSTONE_RETENTION_DAYS)
    ).delete()
    return logged + tombstones + forget_unneeded_actors(now)


def forget_unneeded_actors(now) -> int:
    """Delete the remote accounts nothing here needs: no follow, no reply, no ban or pending ban,
    and a key past its cache time (a returning account is fetched again, as a stale one is). The
    moderation record made for such an account alone (no reply, no address, no site account)
    goes with it. Returns how many accounts went."""
    from datetime import timedelta

    from django.db import transaction
    from django.db.models import Q

    from speakout.discussion.models import Commenter

    from .app_settings import app_settings
    from .models import RemoteActor

    unused_record = Q(is_banned=False, replies__isnull=True, pending_bans__isnull=True, user__isnull=True, email="")
    stale = now - timedelta(seconds=app_settings.KEY_CACHE_SECONDS)
    unneeded = RemoteActor.objects.filter(fetched_at__lt=stale, follower__isnull=True, replies__isnull=True).filter(
        Q(commenter__isnull=True) | Q(commenter__in=Commenter.objects.filter(unused_record))
    )
    with transaction.atomic():
        found = _found(unneeded)
        if not found:
            return 0
        # Asked again as it is deleted: an account that wrote or was fetched since stays.
        _count, gone = unneeded.filter(pk__in=[pk for pk, _record in found]).delete()
        records = [record for _pk, record in found if record is not None]
        # Only the records whose account went (the relation is empty once it has).
        Commenter.objects.filter(unused_record, pk__in=records, remote_actor__isnull=True).delete()
    return gone.get(RemoteActor._meta.label, 0)


def _found(accounts) -> list[tuple[int, int | None]]:
    """The accounts about to go, with their moderation records (a seam for tests)."""
    return list(accounts.values_list("pk", "commenter_id"))
