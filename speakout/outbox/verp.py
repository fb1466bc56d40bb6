"""A return path per mail (VERP): the envelope sender names the mail a bounce belongs to.

With ``SPEAKOUT_BOUNCE_ADDRESS = bounces@example.org``, mail 1234 leaves with the envelope sender
``bounces+m4d2-<tag>-<recipient tag>@example.org``; a bounce or a complaint comes back to that
address. The tag is an HMAC of the mail's id under the site's secret key, so nobody can make up
the address of a mail they did not receive, and so nobody can suppress someone else's address
with a forged bounce. The recipient tag is an HMAC of the id and the address the mail went to: once
the mail is purged from the outbox, it tells whether the address a bounce names is that one (a
recipient of the mail knows its return path, but cannot make the tag of another address). Hex
only: some mail servers lower-case the local part. Return paths without a recipient tag (mail sent
before it existed) still name their mail.
"""

from __future__ import annotations

import re
from email.utils import parseaddr

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

from .app_settings import app_settings

SALT = "speakout.outbox.verp"
TAG_LENGTH = 20  # 80 bits of HMAC-SHA256
RECIPIENT_TAG_LENGTH = 12  # 48 bits: the local part must stay within 64 characters
LOCAL_PART_MAX = 64  # RFC 5321
_TOKEN = re.compile(
    r"\+m(?P<id>[0-9a-f]{1,16})-(?P<tag>[0-9a-f]{"
    + str(TAG_LENGTH)
    + r"})(?:-(?P<recipient>[0-9a-f]{"
    + str(RECIPIENT_TAG_LENGTH)
    + r"}))?@",
    re.IGNORECASE,
)


def _secrets() -> list[str | bytes]:
    return [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]


def _tag(mail_id: int, secret: str | bytes | None = None) -> str:
    return salted_hmac(SALT, str(mail_id), secret=secret, algorithm="sha256").hexdigest()[:TAG_LENGTH]


def _recipient_tag(mail_id: int, address: str, secret: str | bytes | None = None) -> str:
    value = f"{mail_id}:{address.strip().lower()}"
    return salted_hmac(f"{SALT}.recipient", value, secret=secret, algorithm="sha256").hexdigest()[:RECIPIENT_TAG_LENGTH]


def return_path(mail_id: int, recipient: str | None = None) -> str | None:
    """The envelope sender for mail ``mail_id`` to ``recipient``, or None without a bounce address."""
    address = parseaddr(app_settings.BOUNCE_ADDRESS)[1]
    if not address or "@" not in address:
        return None
    local, _, domain = address.rpartition("@")
    signed_local = f"{local}+m{mail_id:x}-{_tag(mail_id)}"
    if recipient and len(signed_local) + 1 + RECIPIENT_TAG_LENGTH <= LOCAL_PART_MAX:
        signed_local += f"-{_recipient_tag(mail_id, recipient)}"
    # Past 64 characters some servers refuse the sender: a long bounce address goes without the
    # recipient tag (its bounces then count only while the mail is kept).
    return f"{signed_local}@{domain}"


def signed(text: str) -> list[tuple[int, str]]:
    """Every signed return path in ``text`` (an address, a header) whose tag is right, as
    (mail id, recipient tag or ""). Keys in SECRET_KEY_FALLBACKS still count, so a key rotation
    does not lose the bounces of mail sent just before it."""
    found = []
    for match in _TOKEN.finditer(text or ""):
        mail_id = int(match["id"], 16)
        given = match["tag"].lower()
        if any(constant_time_compare(given, _tag(mail_id, secret)) for secret in _secrets()):
            found.append((mail_id, (match["recipient"] or "").lower()))
    return found


def mail_id_from(text: str) -> int | None:
    """The id of the mail whose signed return path appears in ``text``, or None when none does
    or its tag is wrong."""
    found = signed(text)
    return found[0][0] if found else None


def is_recipient(mail_id: int, recipient_tag: str, address: str) -> bool:
    """Whether mail ``mail_id`` went to ``address``, by the recipient tag of its return path."""
    if not recipient_tag or not address:
        return False
    return any(constant_time_compare(recipient_tag, _recipient_tag(mail_id, address, secret)) for secret in _secrets())
