"""One way for Speakout to fetch a URL from the server without being turned against its own
network (SSRF).

``fetch(url)`` resolves the host itself, refuses if any address it resolves to is loopback,
private, link-local, multicast, reserved or otherwise not global (an IPv6 address carrying an
IPv4 one, as NAT64 and 6to4 do, is judged by the IPv4 address), then connects to the checked
address (so a second DNS answer cannot swap it), follows at most a few redirects and checks each
target the same way, and stops at a size limit and at a time limit for the whole fetch. Use it
for every server-side fetch; ``SPEAKOUT_FETCH_ALLOWED_NETWORKS`` (networks, from the environment
variable of that name; empty on a real site) lets a test reach its own loopback server.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from django.conf import settings

from .addresses import Address, parse_networks

REDIRECTS = {301, 302, 303, 307, 308}
USER_AGENT = "Speakout (+https://github.com/speakout)"


class FetchRefused(Exception):
    """The URL was not fetched; the message says why."""


@dataclass
class Fetched:
    url: str  # after redirects
    status: int
    content_type: str
    body: bytes


def _allowed_networks():
    return parse_networks(getattr(settings, "SPEAKOUT_FETCH_ALLOWED_NETWORKS", ()) or ())


# IPv6 blocks whose last 32 bits are an IPv4 address a gateway or the kernel may deliver to
# (NAT64, IPv4-compatible, IPv4-translated): judged by that IPv4 address, which Python's is_global
# does not look at.
_CARRYING_IPV4 = tuple(ipaddress.IPv6Network(block) for block in ("64:ff9b::/96", "::/96", "::ffff:0:0:0/96"))
# The local-use NAT64 block (RFC 8215) and the old site-local block: never a public server.
_NEVER_PUBLIC = tuple(ipaddress.IPv6Network(block) for block in ("64:ff9b:1::/48", "fec0::/10"))


def _inner_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if any(address in block for block in _CARRYING_IPV4):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        inner = _inner_ipv4(address)
        if inner is not None:
            return is_public(inner)
        if any(address in block for block in _NEVER_PUBLIC):
            return False
    if any(address.version == network.version and address in network for network in _allowed_networks()):
        return True
    return address.is_global and not address.is_multicast


def _checked_address(host: str, port: int) -> str:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise FetchRefused(f"{host} does not resolve: {error}") from error
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    if not addresses:
        raise FetchRefused(f"{host} does not resolve")
    refused = [str(address) for address in addresses if not is_public(address)]
    if refused:
        raise FetchRefused(f"{host} resolves to an address that is not public ({', '.join(refused)})")
    return str(addresses[0])


class _Deadline:
    """Every wait ends at the fetch's deadline. A socket timeout counts afresh at each read, so a
    server sending a byte just within it could otherwise hold a fetch for days."""

    deadline = float("inf")

    def _wait_until_deadline(self) -> None:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the time limit is over")
        self.settimeout(remaining)  # type: ignore[attr-defined]

    def recv_into(self, *args, **kwargs):
        self._wait_until_deadline()
        return super().recv_into(*args, **kwargs)  # type: ignore[misc]

    def sendall(self, *args, **kwargs):
        self._wait_until_deadline()
        return super().sendall(*args, **kwargs)  # type: ignore[misc]


class _DeadlineSocket(_Deadline, socket.socket):
    pass


class _DeadlineSSLSocket(_Deadline, ssl.SSLSocket):
    pass


def _remaining(deadline: float) -> float:
    return max(deadline - time.monotonic(), 0.001)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host, port, address, deadline):
        super().__init__(host, port, timeout=_remaining(deadline))
        self._address = address
        self._deadline = deadline

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = _DeadlineSocket(sock.family, sock.type, sock.proto, fileno=sock.detach())
        self.sock.deadline = self._deadline


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, port, address, deadline):
        context = ssl.create_default_context()
        context.sslsocket_class = _DeadlineSSLSocket
        super().__init__(host, port, timeout=_remaining(deadline), context=context)
        self._address = address
        self._deadline = deadline

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        sock.settimeout(_remaining(self._deadline))  # the handshake's limit, as a whole
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # checks the name
        self.sock.deadline = self._deadline


# Signs one request: (method, url, headers, body) -> the headers to add (see federation.signatures).
Signer = Callable[[str, str, Mapping[str, str], bytes], Mapping[str, str]]


def fetch(
    url: str,
    *,
    max_bytes: int = 10 * 1024 * 1024,
    timeout: float = 10.0,
    max_redirects: int = 3,
    method: str = "GET",
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
    sign: Signer | None = None,
) -> Fetched:
    """GET (or ``method``) ``url``; raises FetchRefused for a URL it will not fetch or an answer
    past the limits. ``headers`` are sent as given (``Accept``: an ActivityPub server answers
    406 without the right one); ``sign`` signs each request, redirects included. A request with a
    body never follows a redirect."""
    if body:
        max_redirects = 0
    deadline = time.monotonic() + timeout
    for _hop in range(max_redirects + 1):
        try:
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as error:
            raise FetchRefused(f"not a URL: {url[:200]!r}") from error
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchRefused(f"only http and https URLs are fetched, not {url[:200]!r}")
        if parts.username or parts.password:
            raise FetchRefused("URLs with credentials are not fetched")
        address = _checked_address(parts.hostname, port)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchRefused(f"no answer within {timeout:.0f} s")
        kind = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
        connection = kind(parts.hostname, port, address, deadline)
        try:
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            sent = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity", **(headers or {})}
            if sign is not None:
                sent.update(sign(method, url, sent, body))
            connection.request(method, target, body=body or None, headers=sent)
            response = connection.getresponse()
            if response.status in REDIRECTS and response.getheader("Location") and max_redirects:
                url = urljoin(url, response.getheader("Location"))
                continue
            length = response.getheader("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise FetchRefused(f"the answer is larger than {max_bytes} bytes")
            body = bytearray()
            while chunk := response.read(64 * 1024):
                body += chunk
                if len(body) > max_bytes:
                    raise FetchRefused(f"the answer is larger than {max_bytes} bytes")
                if time.monotonic() > deadline:
                    raise FetchRefused(f"no complete answer within {timeout:.0f} s")
            return Fetched(url, response.status, response.getheader("Content-Type", ""), bytes(body))
        except (OSError, http.client.HTTPException) as error:
            raise FetchRefused(f"fetching {parts.hostname} failed: {error}") from error
        finally:
            connection.close()
    raise FetchRefused(f"more than {max_redirects} redirects")
