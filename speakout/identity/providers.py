"""The login providers configured in the admin (allauth SocialApps), as the reply form shows them.

The list is cached until a SocialApp changes, so a page view costs no query for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save

CACHE_KEY = "speakout:identity:providers"
# Local icons (static/identity/icons/<name>.svg) for allauth's provider ids; others get "openid".
ICONS = {"github": "github", "google": "google", "facebook": "facebook", "openid_connect": "openid"}


@dataclass(frozen=True)
class LoginProvider:
    id: str
    name: str
    icon: str
    login_url: str


def configured_providers(request) -> list[LoginProvider]:
    """Every provider with a SocialApp, in the order of their names."""
    cached = cache.get(CACHE_KEY)
    if cached is not None:
        return cached
    from allauth.socialaccount.adapter import get_adapter

    providers = []
    for provider in get_adapter().list_providers(request):
        app = getattr(provider, "app", None)
        kind = getattr(app, "provider", "") or provider.id
        providers.append(
            LoginProvider(
                id=provider.sub_id,
                name=(getattr(app, "name", "") or provider.name),
                icon=ICONS.get(kind, "openid"),
                login_url=provider.get_login_url(request),
            )
        )
    providers.sort(key=lambda item: item.name.lower())
    cache.set(CACHE_KEY, providers, 24 * 3600)
    return providers


def forget_providers(**kwargs) -> None:
    cache.delete(CACHE_KEY)


def connect() -> None:
    from allauth.socialaccount.models import SocialApp

    post_save.connect(forget_providers, sender=SocialApp, dispatch_uid="speakout-identity-providers-save")
    post_delete.connect(forget_providers, sender=SocialApp, dispatch_uid="speakout-identity-providers-delete")
