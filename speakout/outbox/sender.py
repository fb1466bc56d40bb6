"""Who a mail is from: the organisation, by the name and address its admin gives the sender.

The sender name is the one set in Settings → Mail sender, else the default Wagtail site's
"Site name" (Settings → Sites), so a volunteer can change either without touching the server;
``SPEAKOUT_SITE_NAME`` is the fallback (and the only source in a project without Wagtail). The
address is the one set in Settings → Mail sender if it is at ``SPEAKOUT_EMAIL_FROM``'s domain
(checked when saved, and again here in case that setting changed since), else that address.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from email.utils import formataddr, parseaddr
from typing import Any, TypeVar

from django.apps import apps
from django.conf import settings

from .models import SenderSettings, at_from_domain

logger = logging.getLogger("speakout.outbox")

# What every mail of a batch reads the same (see ``one_batch``).
_batch: ContextVar[dict[str, Any] | None] = ContextVar("speakout_outbox_batch", default=None)
T = TypeVar("T")


@contextmanager
def one_batch() -> Iterator[None]:
    """Within a batch of mails rendered or sent one after another (seconds), the organisation's
    name (and what else ``for_the_batch`` is asked for) is read once, not once or twice per mail:
    that query was a fifth of the worker's time per reply notification. A change made meanwhile
    shows from the next batch."""
    token = _batch.set({})
    try:
        yield
    finally:
        _batch.reset(token)


def for_the_batch(name: str, read: Callable[[], T]) -> T:
    """``read()``, once per ``one_batch`` (every time outside one)."""
    remembered = _batch.get()
    if remembered is None:
        return read()
    if name not in remembered:
        remembered[name] = read()
    return remembered[name]


def organisation_name() -> str:
    return for_the_batch("organisation_name", _organisation_name)


def _organisation_name() -> str:
    if apps.is_installed("wagtail"):
        from wagtail.models import Site  # only here: the outbox works without Wagtail

        name = Site.objects.filter(is_default_site=True).values_list("site_name", flat=True).first()
        if name and name.strip():
            return name.strip()
    return settings.SITE_NAME


def sender_address() -> str:
    """``"Sender name" <address>``: the admin's sender, within the configured domain."""
    return for_the_batch("sender_address", _sender_address)


def _sender_address() -> str:
    configured_name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    chosen = SenderSettings.load()
    name = chosen.name.strip() or organisation_name() or configured_name
    if chosen.address:
        if at_from_domain(chosen.address):
            address = chosen.address
        else:
            logger.warning("The sender address set in the admin is not at SPEAKOUT_EMAIL_FROM's domain; using that.")
    # One line only: a name with a line break would otherwise break the From header.
    return formataddr((" ".join(name.split()), address))
