"""The site's ActivityPub addresses, all under ``settings.BASE_URL`` (ids must never change), and
how other servers' addresses are read: an id sent by a remote server can be anything, and must
never become a server error, nor a second name for a blocked server."""

from __future__ import annotations

import ipaddress
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse


def absolute(path: str) -> str:
    return settings.BASE_URL.rstrip("/") + path


def address(name: str, *args: str) -> str:
    """The absolute address of the federation's URL ``name``."""
    return absolute(reverse(f"federation:{name}", args=args))


def actor_url() -> str:
    return address("actor")


def followers_url() -> str:
    return address("followers")


def host() -> str:
    return urlsplit(settings.BASE_URL).netloc


def netloc(url: str) -> str:
    """A URL's host and port as written; "" when it is not a URL ``urlsplit`` can read."""
    try:
        return urlsplit(url).netloc
    except ValueError:
        return ""


def server_name(url: str) -> str:
    """The server a URL names, as blocks, bans and limits compare it: its host in lowercase ASCII
    (IDNA) without the root's dot, so every spelling that reaches one server (``Remote.example.``,
    ``remote。example``, an IDN in either form) is that server; "" when none can be read."""
    try:
        host = (urlsplit(url).hostname or "").rstrip(".")
        return host.encode("idna").decode("ascii").lower()
    except ValueError:  # UnicodeError is one
        return ""


@cache
def _public_suffixes() -> Any:
    # The list the package ships (updated with each release), read once on first use: it is
    # never fetched at run time, and a web process that never federates never loads it.
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


def registrable_domain(url: str) -> str:
    """The domain a URL's server is registered under (eTLD+1 by the Public Suffix List), which is
    what per-server limits, bans and blocks count under: every name of a server with wildcard DNS
    (``a.evil.example``, ``b.evil.example``) is ``evil.example``, while two people's sites under
    a public suffix (``alice.github.io``, ``bob.github.io``) stay two. An IP-literal host is
    itself, a host that is a public suffix is itself; "" when no host can be read."""
    host = server_name(url)
    if not host:
        return ""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    return _public_suffixes().privatesuffix(host) or host


def is_web_url(value: str) -> bool:
    try:
        return urlsplit(value).scheme in ("http", "https")
    except ValueError:
        return False
