"""Reading bounces from a mailbox over IMAP (``SPEAKOUT_BOUNCE_IMAP_URL``), a scheduled job.

``imaps://user:password@host:993/INBOX`` connects over TLS; ``imap://user:password@host/INBOX``
upgrades with STARTTLS, and only to a server on this machine (loopback) may it go without it,
as Dovecot itself allows. User and password are URL-quoted (``%40`` for ``@``).

Each poll reads the unseen messages of the folder. A bounce or complaint, once recorded, is
deleted (it holds a reader's address and nothing else we need); anything else (an auto-reply, a
person writing to the bounce address, a bounce whose address cannot be known) is left in
the folder, marked seen, for a person to read.
A message is marked only after its outcome is stored, so a crash reads it again next time, and
reading it twice changes nothing.
"""

from __future__ import annotations

import imaplib
import ipaddress
import logging
import ssl
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

from . import bounces
from .app_settings import app_settings

logger = logging.getLogger("speakout.outbox.bounces")

TIMEOUT_SECONDS = 30
RECORDED = {bounces.Kind.HARD, bounces.Kind.SOFT, bounces.Kind.COMPLAINT}
# Messages read per poll: a flooded mailbox is worked through over several polls.
BATCH = 500


@dataclass(frozen=True)
class MailboxURL:
    host: str
    port: int
    user: str
    password: str
    folder: str
    tls: bool  # implicit TLS (imaps); otherwise STARTTLS

    @property
    def loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def parse_url(url: str) -> MailboxURL:
    """Read ``SPEAKOUT_BOUNCE_IMAP_URL``; a mistake raises ImproperlyConfigured saying which."""
    parts = urlsplit(url)
    if parts.scheme not in ("imap", "imaps"):
        raise ImproperlyConfigured("SPEAKOUT_BOUNCE_IMAP_URL must start with imaps:// or imap://")
    if not parts.hostname or parts.username is None or parts.password is None:
        raise ImproperlyConfigured(
            "SPEAKOUT_BOUNCE_IMAP_URL needs a user, a password and a host: imaps://user:password@host/INBOX"
        )
    try:
        port = parts.port
    except ValueError as error:
        raise ImproperlyConfigured(f"SPEAKOUT_BOUNCE_IMAP_URL: {error}") from error
    tls = parts.scheme == "imaps"
    return MailboxURL(
        host=parts.hostname,
        port=port or (993 if tls else 143),
        user=unquote(parts.username),
        password=unquote(parts.password),
        folder=unquote(parts.path.lstrip("/")) or "INBOX",
        tls=tls,
    )


def connect(mailbox: MailboxURL) -> imaplib.IMAP4:
    context = ssl.create_default_context()
    if mailbox.tls:
        return imaplib.IMAP4_SSL(mailbox.host, mailbox.port, ssl_context=context, timeout=TIMEOUT_SECONDS)
    connection = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=TIMEOUT_SECONDS)
    if "STARTTLS" in connection.capabilities:
        connection.starttls(ssl_context=context)
    elif not mailbox.loopback:
        connection.shutdown()
        raise ConnectionError(
            f"The IMAP server {mailbox.host} offers no STARTTLS; the password would cross the network "
            "in clear. Use imaps:// or a server that offers STARTTLS."
        )
    return connection


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def poll(url: str | None = None) -> dict[str, int]:
    """Read the mailbox once; return counts of what its messages were (see bounces.Kind)."""
    mailbox = parse_url(url or app_settings.BOUNCE_IMAP_URL)
    counts: dict[str, int] = {kind.value: 0 for kind in bounces.Kind}
    connection = connect(mailbox)
    try:
        connection.login(mailbox.user, mailbox.password)
        status, _ = connection.select(_quote(mailbox.folder))
        if status != "OK":
            raise ConnectionError(f"The IMAP folder {mailbox.folder!r} cannot be opened.")
        status, data = connection.uid("SEARCH", "UNSEEN")
        uids = (data[0] or b"").split()[:BATCH] if status == "OK" else []
        for uid in uids:
            status, fetched = connection.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((item[1] for item in fetched if isinstance(item, tuple)), None)
            if status != "OK" or raw is None:
                continue
            outcome = bounces.process(raw)
            counts[outcome.kind.value] += 1
            flags = r"(\Seen \Deleted)" if outcome.kind in RECORDED else r"(\Seen)"
            connection.uid("STORE", uid, "+FLAGS", flags)
        connection.expunge()
        connection.close()
    finally:
        try:
            connection.logout()
        except (imaplib.IMAP4.error, OSError):
            logger.debug("IMAP logout failed", exc_info=True)
    if any(counts.values()):
        logger.info("Bounce mailbox read: %s", ", ".join(f"{k} {v}" for k, v in counts.items() if v))
    return counts
