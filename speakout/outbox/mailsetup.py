"""What ``speakout manage check_mail_setup`` looks up: the SPF, DKIM and DMARC records of the
domain mail is sent from (dnspython), compared with how the outbox sends, in plain words.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import dns.exception
import dns.name
import dns.resolver
from django.conf import settings

from . import signing
from .app_settings import app_settings
from .models import domain_of


class Level(enum.StrEnum):
    OK = "ok"
    NOTE = "note"
    MISSING = "missing"
    PROBLEM = "problem"


@dataclass(frozen=True)
class Finding:
    level: Level
    topic: str
    message: str


class DNSUnavailable(Exception):
    """No answer from DNS at all: every other look-up would fail the same way."""


def make_resolver(nameserver: str = "", timeout: float = 5.0) -> dns.resolver.Resolver:
    """The system's resolver, or one asking ``host`` or ``host:port`` only."""
    if nameserver:
        resolver = dns.resolver.Resolver(configure=False)
        host, _, port = nameserver.rpartition(":") if nameserver.count(":") == 1 else (nameserver, "", "")
        resolver.nameservers = [host]
        if port:
            resolver.port = int(port)
    else:
        resolver = dns.resolver.Resolver()
    resolver.timeout = resolver.lifetime = timeout
    return resolver


class Lookup:
    def __init__(self, resolver: dns.resolver.Resolver) -> None:
        self.resolver = resolver

    def txt(self, name: str) -> list[str] | None:
        """The TXT strings at ``name`` ([] when there are none), or None when the name does not
        exist. Raises DNSUnavailable when DNS does not answer."""
        try:
            answer = self.resolver.resolve(name, "TXT")
        except dns.resolver.NXDOMAIN:
            return None
        except dns.resolver.NoAnswer:
            return []
        except dns.resolver.NoNameservers as error:
            raise DNSUnavailable(
                f"the DNS servers could not answer for {name} (SERVFAIL or refused): {_first_line(error)}"
            ) from error
        except dns.exception.Timeout as error:
            raise DNSUnavailable(
                f"no DNS server answered within {self.resolver.lifetime:g} seconds (asked about {name})"
            ) from error
        return [b"".join(record.strings).decode("utf-8", "replace") for record in answer]


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _aligned(domain: str, with_domain: str) -> bool:
    """Relaxed DMARC alignment, approximated: the same domain or one a subdomain of the other."""
    return domain == with_domain or domain.endswith("." + with_domain) or with_domain.endswith("." + domain)


def _tags(record: str) -> dict[str, str]:
    tags = {}
    for part in record.split(";"):
        name, sep, value = part.partition("=")
        if sep:
            tags[name.strip().lower()] = "".join(value.split())
    return tags


def check(resolver: dns.resolver.Resolver, domain: str = "") -> list[Finding]:
    """Everything found about the mail set-up of ``domain`` (default: SPEAKOUT_EMAIL_FROM's)."""
    domain = (domain or domain_of(settings.DEFAULT_FROM_EMAIL)).strip(".").lower()
    lookup = Lookup(resolver)
    findings: list[Finding] = []
    try:
        if lookup.txt(domain) is None:
            return [Finding(Level.PROBLEM, "DNS", f"The domain {domain} does not exist in DNS.")]
        findings.append(_spf(lookup, domain, "SPF"))
        bounce_domain = domain_of(app_settings.BOUNCE_ADDRESS)
        if bounce_domain and bounce_domain != domain:
            findings.append(_spf(lookup, bounce_domain, "SPF (bounce address)"))
            if not _aligned(bounce_domain, domain):
                findings.append(
                    Finding(
                        Level.NOTE,
                        "SPF (bounce address)",
                        f"The envelope sender is at {bounce_domain}, not at {domain}: SPF cannot count "
                        "towards DMARC, so DMARC passes only with a DKIM signature.",
                    )
                )
        findings.append(_dkim(lookup, domain))
        findings.append(_dmarc(lookup, domain))
    except DNSUnavailable as error:
        findings.append(Finding(Level.PROBLEM, "DNS", f"Could not check: {error}. Nothing else was looked up."))
    return findings


def _spf(lookup: Lookup, domain: str, topic: str) -> Finding:
    strings = lookup.txt(domain)
    if strings is None:
        return Finding(Level.PROBLEM, topic, f"The domain {domain} does not exist in DNS.")
    records = [text for text in strings if text.lower().split(" ", 1)[0] == "v=spf1"]
    example = "v=spf1 mx include:<your mail provider's SPF domain> -all"
    if not records:
        return Finding(Level.MISSING, topic, f"No SPF record at {domain}. Add one TXT record, such as: {example}")
    if len(records) > 1:
        return Finding(
            Level.PROBLEM,
            topic,
            f"{len(records)} SPF records at {domain}; receivers treat that as an error. Merge them into one.",
        )
    record = records[0]
    terms = record.lower().split()
    if "+all" in terms or "all" in terms:
        return Finding(Level.PROBLEM, topic, f"The SPF record at {domain} lets any server send as it: {record}")
    if not any(term.endswith("all") for term in terms) and not any(term.startswith("redirect=") for term in terms):
        return Finding(Level.NOTE, topic, f"The SPF record at {domain} ends without -all or ~all: {record}")
    return Finding(Level.OK, topic, f"{domain}: {record}")


def _dkim(lookup: Lookup, domain: str) -> Finding:
    selector = app_settings.DKIM_SELECTOR
    signing_domain = signing.signing_domain()
    name = f"{selector}._domainkey.{signing_domain}"
    strings = lookup.txt(name) or []
    records = [text for text in strings if "p=" in text]
    key = signing.private_key()
    if key is None:
        if records:
            return Finding(
                Level.NOTE,
                "DKIM",
                f"A DKIM record exists at {name}, but Speakout signs nothing (no key): fine if your "
                "mail provider signs for you.",
            )
        return Finding(
            Level.MISSING,
            "DKIM",
            "Mail is not signed: no DKIM key (SPEAKOUT_DKIM_PRIVATE_KEY or the key file). Run "
            "`speakout manage dkim_key` and publish the record it prints, or have your mail provider sign.",
        )
    try:
        expected = signing.public_key(key)
    except ValueError as error:
        return Finding(Level.PROBLEM, "DKIM", f"The configured DKIM key cannot be read: {error}")
    if not records:
        return Finding(
            Level.MISSING,
            "DKIM",
            f"Mail is signed, but no DKIM record is published at {name}. Publish this TXT record: "
            f"{signing.dns_record(key)}",
        )
    if any(_tags(record).get("p") == expected for record in records):
        if not _aligned(signing_domain, domain):
            return Finding(
                Level.NOTE,
                "DKIM",
                f"Mail is signed for {signing_domain}, not {domain}: the signature does not count towards DMARC.",
            )
        return Finding(Level.OK, "DKIM", f"{name} publishes the key mail is signed with.")
    return Finding(
        Level.PROBLEM,
        "DKIM",
        f"The record at {name} holds another key than the one mail is signed with; receivers will reject "
        f"the signature. Publish: {signing.dns_record(key)}",
    )


def _dmarc(lookup: Lookup, domain: str) -> Finding:
    name = f"_dmarc.{domain}"
    records = [text for text in (lookup.txt(name) or []) if text.lower().replace(" ", "").startswith("v=dmarc1")]
    if not records:
        return Finding(
            Level.MISSING,
            "DMARC",
            f"No DMARC record at {name}. Start with: v=DMARC1; p=none; rua=mailto:dmarc-reports@{domain}",
        )
    policy = _tags(records[0]).get("p", "").lower()
    if policy == "none":
        return Finding(
            Level.NOTE,
            "DMARC",
            f"{name}: p=none, reports only. Once they show all your mail passing, move to p=quarantine.",
        )
    if policy in ("quarantine", "reject"):
        return Finding(Level.OK, "DMARC", f"{name}: p={policy}")
    return Finding(Level.PROBLEM, "DMARC", f"The DMARC record at {name} has no valid policy (p=): {records[0]}")
