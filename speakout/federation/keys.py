"""The site actor's keys: made on first use and kept in the database, never sent anywhere but
as the public half. ``rotate()`` makes a new one; the actor then shows only the new public key
(under the same key id, ``#main-key``) and ``rotate_and_announce()`` tells every follower's
server with an ``Update`` of the actor.

The old public key is not kept published: every request is signed when it is sent (a delivery
is signed at each attempt, never stored signed), so after a rotation nothing signed with the old
key is still to arrive, and a server holding the old key fetches the actor again when a
signature fails with it (Mastodon and Fedify both do). Retired keys stay in the table, unused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from .models import ActorKey

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

ROTATED = "speakout_federation.rotate_key"  # the admin history's action (wagtail_hooks.py)


def _new_key() -> ActorKey:
    # cryptography is imported where a key is made or used, so a web process that never
    # federates does not carry it (web process memory target, docs/benchmarks.md).
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ActorKey(
        private_pem=private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
        public_pem=private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode(),
    )


def current() -> ActorKey:
    key = ActorKey.objects.filter(retired_at__isnull=True).first()
    if key is not None:
        return key
    with transaction.atomic():
        key = ActorKey.objects.select_for_update().filter(retired_at__isnull=True).first()
        if key is None:
            key = _new_key()
            key.save()
    return key


def rotate() -> ActorKey:
    with transaction.atomic():
        ActorKey.objects.filter(retired_at__isnull=True).update(retired_at=timezone.now())
        key = _new_key()
        key.save()
    return key


def rotate_and_announce(by: Any = None) -> tuple[ActorKey, int]:
    """A new key, and ``Update(actor)`` queued for every follower's (shared) inbox, in one
    transaction, recorded in the admin's history (by ``by``, or the system for the command);
    returns the key and how many inboxes are told."""
    from wagtail.log_actions import log

    from . import delivery, documents
    from .models import FederationSettings
    from .urls_helpers import followers_url

    with transaction.atomic():
        key = rotate()
        told = delivery.tell_followers("Update", documents.actor(), cc=[followers_url()])
        log(instance=FederationSettings.load(), action=ROTATED, user=by, data={"inboxes": told})
    return key, told


def private_key(key: ActorKey) -> RSAPrivateKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

    loaded = serialization.load_pem_private_key(key.private_pem.encode(), password=None)
    assert isinstance(loaded, RSAPrivateKey)
    return loaded
