"""A return path per mail (VERP): the envelope sender names the mail a bounce belongs to.

With ``SPEAKOUT_BOUNCE_ADDRESS = bounces@example.org``, mail 1234 leaves with the envelope sender
``bounces+m4d2-<tag>@example.org``; a bounce or a complaint comes back to that address. The tag
is an HMAC of the mail's id under the site's secret key, so nobody can make up the address of a
mail they did not receive, and so nobody can suppress someone else's address with a forged
bounce. Hex only: some mail servers lower-case the local part.
"""

from __future__ import annotations

import re
from email.utils import parseaddr

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

from .app_settings import app_settings

SALT = "speakout.outbox.verp"
TAG_LENGTH = 20  # 80 bits of HMAC-SHA256
_TOKEN = re.compile(r"\+m(?P<id>[0-9a-f]{1,16})-(?P<tag>[0-9a-f]{" + str(TAG_LENGTH) + r"})@", re.IGNORECASE)


def _tag(mail_id: int, secret: str | bytes | None = None) -> str:
    return salted_hmac(SALT, str(mail_id), secret=secret, algorithm="sha256").hexdigest()[:TAG_LENGTH]


def return_path(mail_id: int) -> str | None:
    """The envelope sender for mail ``mail_id``, or None without a bounce address."""
    address = parseaddr(app_settings.BOUNCE_ADDRESS)[1]
    if not address or "@" not in address:
        return None
    local, _, domain = address.rpartition("@")
    return f"{local}+m{mail_id:x}-{_tag(mail_id)}@{domain}"


def mail_id_from(text: str) -> int | None:
    """The id of the mail whose signed return path appears in ``text`` (an address, a header),
    or None when none does or its tag is wrong. Keys in SECRET_KEY_FALLBACKS still count, so a
    key rotation does not lose the bounces of mail sent just before it."""
    for match in _TOKEN.finditer(text or ""):
        mail_id = int(match["id"], 16)
        given = match["tag"].lower()
        for secret in [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]:
            if constant_time_compare(given, _tag(mail_id, secret)):
                return mail_id
    return None
