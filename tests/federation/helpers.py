"""A remote Fediverse account for tests: kept as if fetched, with its own key to sign with; and a
local inbox that takes deliveries (``Inbox``, served by the ``inbox`` fixture in conftest.py)."""

from __future__ import annotations

import base64
import hashlib
import json
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.utils import timezone

from speakout.federation.models import RemoteActor

BASE_URL = "http://testserver"
REMOTE = "https://remote.example"


class RemoteKey:
    """A remote actor kept as if fetched a moment ago, and its private key to sign with."""

    def __init__(self, url: str):
        self.url = url
        self.key_id = url + "#main-key"
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = (
            self.private.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )
        host = url.split("/")[2]
        self.actor = RemoteActor.objects.create(
            url=url,
            domain=host,
            inbox=url + "/inbox",
            shared_inbox=f"https://{host}/inbox",
            username=url.rsplit("/", 1)[-1],
            name="Bob Remote",
            profile_url=url,
            key_id=self.key_id,
            public_key_pem=pem,
            fetched_at=timezone.now(),
        )

    def headers(self, path: str, body: bytes, *, host: str = "testserver", date: str | None = None, key=None) -> dict:
        """draft-cavage rsa-sha256 headers, built here independently of Speakout's signer."""
        digest = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
        date = date or formatdate(usegmt=True)
        text = f"(request-target): post {path}\nhost: {host}\ndate: {date}\ndigest: {digest}"
        signature = (key or self.private).sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())
        return {
            "HTTP_DATE": date,
            "HTTP_DIGEST": digest,
            "HTTP_SIGNATURE": (
                f'keyId="{self.key_id}",algorithm="rsa-sha256",headers="(request-target) host date digest",'
                f'signature="{base64.b64encode(signature).decode()}"'
            ),
        }

    def post(self, client, activity: dict, path: str = "/federation/inbox", **options):
        body = json.dumps(activity).encode()
        return client.post(path, body, content_type="application/activity+json", **self.headers(path, body, **options))


class Inbox(BaseHTTPRequestHandler):
    status = 202
    received: list[dict] = []

    def do_POST(self):  # noqa: N802  (http.server's name)
        length = int(self.headers.get("Content-Length", "0"))
        Inbox.received.append({"headers": dict(self.headers), "body": self.rfile.read(length)})
        self.send_response(Inbox.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def make_user(name: str, *, verified: bool = True, pseudonym: bool = False):
    """A member with a (verified) address, a password or a pseudonym's mark."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model

    from speakout.identity.models import PseudonymAccount

    user = get_user_model().objects.create_user(name, email=f"{name}@example.org", first_name=name.title())
    if pseudonym:
        user.set_unusable_password()  # as "reply under a pseudonym" makes them, and marks them
        PseudonymAccount.objects.create(user=user)
    else:
        user.set_password("a long enough password 42")
    user.save()
    EmailAddress.objects.create(user=user, email=user.email, verified=verified, primary=True)
    return user
