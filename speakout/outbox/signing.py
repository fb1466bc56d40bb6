"""DKIM signatures on outgoing mail (dkimpy), when a private key is configured.

The key is ``SPEAKOUT_DKIM_PRIVATE_KEY`` (PEM text) or the file ``<data folder>/dkim/<selector>.pem``
(``speakout manage dkim_key`` writes one and prints the DNS record to publish). Without either,
mail goes out unsigned, as before. docs/email.md says how to publish the key.
"""

from __future__ import annotations

import logging

from .app_settings import app_settings
from .models import from_domain

logger = logging.getLogger("speakout.outbox")

# Signed when present. List-Unsubscribe-Post must be signed for one-click unsubscribe (RFC 8058).
SIGNED_HEADERS = (
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "reply-to",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "content-language",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "list-id",
    "in-reply-to",
    "references",
)


def private_key() -> bytes | None:
    """The configured key as PEM bytes, or None when DKIM signing is off."""
    pem = app_settings.DKIM_PRIVATE_KEY.strip()
    if pem:
        # An environment variable often carries the PEM on one line with literal "\n".
        return pem.replace("\\n", "\n").encode() + b"\n"
    path = app_settings.DKIM_KEY_FILE
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def signing_domain() -> str:
    if app_settings.DKIM_DOMAIN:
        return app_settings.DKIM_DOMAIN.strip().lower()
    return from_domain()


def signature(message: bytes, key: bytes) -> tuple[str, str]:
    """The DKIM-Signature header (name, value) for the message's exact bytes (CRLF line ends).

    Relaxed canonicalization of headers and body: relays may re-fold headers or change trailing
    white space without breaking the signature."""
    # dkimpy (and dnspython under it) is loaded where mail is signed, not in every web process.
    import dkim

    present = {line.split(b":", 1)[0].strip().lower().decode("ascii", "replace") for line in _header_lines(message)}
    include = [name.encode() for name in SIGNED_HEADERS if name in present]
    header = dkim.sign(
        message,
        app_settings.DKIM_SELECTOR.encode(),
        signing_domain().encode(),
        key,
        canonicalize=(b"relaxed", b"relaxed"),
        include_headers=include,
    )
    name, _, value = header.decode("ascii").partition(":")
    # Unfolded (Django refuses header values with line breaks); the generator folds it again,
    # which relaxed canonicalization ignores.
    return name, value.replace("\r\n", "").strip()


def _header_lines(message: bytes) -> list[bytes]:
    head = message.split(b"\r\n\r\n", 1)[0]
    return [line for line in head.split(b"\r\n") if line and line[:1] not in (b" ", b"\t")]


def generate_key(bits: int = 2048) -> bytes:
    """A new RSA private key as PEM (PKCS#8)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def public_key(pem: bytes) -> str:
    """The base64 public half of a PEM private key: the p= of the DKIM DNS record."""
    import base64

    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(pem, password=None)
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode("ascii")


def dns_record(pem: bytes) -> str:
    """The TXT record to publish at ``<selector>._domainkey.<domain>``."""
    return f"v=DKIM1; k=rsa; p={public_key(pem)}"
