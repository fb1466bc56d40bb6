"""Who may use the Import and Export screens (read by the screens and by the admin's menu)."""

from __future__ import annotations

PERMISSION = "speakout_interchange.add_importrun"


def can_import(user) -> bool:
    return user.is_active and (user.is_superuser or user.has_perm(PERMISSION))


def can_export(user) -> bool:
    # Only superusers: an export holds every commenter's address.
    return user.is_active and user.is_superuser
