"""The site's ActivityPub addresses, all under ``settings.BASE_URL`` (ids must never change)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse


def absolute(path: str) -> str:
    return settings.BASE_URL.rstrip("/") + path


def address(name: str, *args: str) -> str:
    """The absolute address of the federation's URL ``name``."""
    return absolute(reverse(f"federation:{name}", args=args))


def actor_url() -> str:
    return address("actor")


def followers_url() -> str:
    return address("followers")


def host() -> str:
    return urlsplit(settings.BASE_URL).netloc


def activity_url(kind: str, token: str) -> str:
    return address("activity", kind.lower(), token)
