"""Who a mail is from: the organisation, by the name its admin gives the site.

The name is the default Wagtail site's "Site name" (Settings → Sites in the admin), so a
volunteer can change it without touching the server; ``SPEAKOUT_SITE_NAME`` is the fallback
(and the only source in a project without Wagtail). The address stays ``SPEAKOUT_EMAIL_FROM``'s.
"""

from __future__ import annotations

from email.utils import formataddr, parseaddr

from django.apps import apps
from django.conf import settings


def organisation_name() -> str:
    if apps.is_installed("wagtail"):
        from wagtail.models import Site  # only here: the outbox works without Wagtail

        name = Site.objects.filter(is_default_site=True).values_list("site_name", flat=True).first()
        if name and name.strip():
            return name.strip()
    return settings.SITE_NAME


def sender_address() -> str:
    """``"Organisation name" <address>``: the configured address under the organisation's name."""
    configured_name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    name = organisation_name() or configured_name
    # One line only: a name with a line break would otherwise break the From header.
    return formataddr((" ".join(name.split()), address))
