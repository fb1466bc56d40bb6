"""The site's ActivityPub addresses, all under ``settings.BASE_URL`` (ids must never change)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse


def absolute(path: str) -> str:
    return settings.BASE_URL.rstrip("/") + path


def actor_url() -> str:
    return absolute(reverse("federation:actor"))


def host() -> str:
    return urlsplit(settings.BASE_URL).netloc


def activity_url(kind: str, token: str) -> str:
    return absolute(reverse("federation:activity", args=[kind.lower(), token]))
