"""The client's address, as far as Speakout can trust it.

``X-Forwarded-For`` is written by whoever sends the request, so it is read only when the peer
(``REMOTE_ADDR``) is one of the operator's proxies, listed in ``SPEAKOUT_TRUSTED_PROXIES``
(addresses or networks). The header is then walked from the right: each trusted proxy appended
the address it saw, so the first address that is not a trusted proxy is the client. Anything
further left was written by the client and is never believed. Every rate limit, ban and
allauth's own counters go through ``client_ip`` (see identity.adapter), so no path can be
dodged by forging the header.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_networks(entries) -> tuple[Network, ...]:
    """``["10.0.0.1", "192.168.0.0/16", "::1"]`` as networks; raises ValueError on a bad entry."""
    return tuple(ipaddress.ip_network(str(entry).strip(), strict=False) for entry in entries)


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return parse_networks(entries)


def trusted_proxies() -> tuple[Network, ...]:
    return _networks(tuple(getattr(settings, "SPEAKOUT_TRUSTED_PROXIES", ()) or ()))


def parse_address(value: str) -> Address | None:
    """An address as proxies write it: bare, ``[v6]``, or with a port (``1.2.3.4:80``,
    ``[::1]:80``). None for anything else (``unknown``, garbage)."""
    value = value.strip()
    if value.startswith("["):
        value = value[1:].split("]", 1)[0]
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    # An IPv4 client seen through an IPv6 socket counts as the IPv4 address.
    return address.ipv4_mapped or address if isinstance(address, ipaddress.IPv6Address) else address


def _is_trusted(address: Address, networks: tuple[Network, ...]) -> bool:
    return any(address.version == network.version and address in network for network in networks)


def client_ip(request) -> str:
    """The client's address for rate limits and bans ("" when the server gave none)."""
    peer = parse_address(request.META.get("REMOTE_ADDR", ""))
    if peer is None:
        return ""
    networks = trusted_proxies()
    if not networks or not _is_trusted(peer, networks):
        return str(peer)
    client = peer
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    for hop in reversed(hops):
        address = parse_address(hop)
        if address is None:
            # Not written by a proxy of ours; the last address we can vouch for stands in, so
            # garbage cannot buy an empty (unlimited) client.
            break
        client = address
        if not _is_trusted(address, networks):
            break
    return str(client)
