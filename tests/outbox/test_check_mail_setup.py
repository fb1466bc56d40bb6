"""``check_mail_setup`` against a DNS server the test controls: a small dnspython server on a
free loopback UDP port answering from a dict (no internet). It names what is missing, checks the
published DKIM key against ours, and says DNS failures plainly."""

from __future__ import annotations

import io
import socket
import threading

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest
from django.core.management import CommandError, call_command

from speakout.outbox import signing


class DNSServer:
    """Answers TXT questions from ``records`` (name -> list of TXT strings); a name under a
    known domain that is not listed is NXDOMAIN; names in ``servfail`` get SERVFAIL."""

    def __init__(self, records: dict[str, list[str]], servfail: set[str] = frozenset(), silent: bool = False):
        self.records = {name.rstrip(".").lower(): values for name, values in records.items()}
        self.servfail = {name.rstrip(".").lower() for name in servfail}
        self.silent = silent
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.asked: list[str] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def serve(self) -> None:
        while not self.stopping.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            query = dns.message.from_wire(data)
            question = query.question[0]
            name = question.name.to_text().rstrip(".").lower()
            self.asked.append(name)
            if self.silent:
                continue
            response = dns.message.make_response(query)
            response.flags |= dns.flags.AA
            if name in self.servfail:
                response.set_rcode(dns.rcode.SERVFAIL)
            elif name in self.records:
                values = self.records[name]
                if question.rdtype == dns.rdatatype.TXT and values:
                    quoted = ['"' + '" "'.join(chunk(value)) + '"' for value in values]
                    response.answer.append(dns.rrset.from_text(question.name, 300, "IN", "TXT", *quoted))
            elif any(name.endswith(known) for known in ("example.org", "example.net")):
                response.set_rcode(dns.rcode.NXDOMAIN)
            else:
                response.set_rcode(dns.rcode.REFUSED)
            self.sock.sendto(response.to_wire(), peer)

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=2)
        self.sock.close()


def chunk(value: str, size: int = 255) -> list[str]:
    """TXT strings hold 255 bytes at most: a DKIM key is published as several."""
    return [value[i : i + size] for i in range(0, len(value), size)] or [""]


@pytest.fixture
def dns_server():
    servers = []

    def start(records, **kwargs):
        server = DNSServer(records, **kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(autouse=True)
def mail_settings(settings, tmp_path):
    settings.DEFAULT_FROM_EMAIL = "Speakout <news@example.org>"
    settings.SPEAKOUT_BOUNCE_ADDRESS = "bounces@example.org"
    settings.SPEAKOUT_DKIM_KEY_FILE = str(tmp_path / "speakout.pem")
    return settings


@pytest.fixture(scope="module")
def key() -> bytes:
    return signing.generate_key(1024)


def run(server, **options) -> tuple[str, str | None]:
    out = io.StringIO()
    try:
        call_command("check_mail_setup", nameserver=server.address, timeout=1, stdout=out, **options)
    except CommandError as error:
        return out.getvalue(), str(error)
    return out.getvalue(), None


def test_a_complete_set_up_passes(dns_server, settings, key):
    settings.SPEAKOUT_DKIM_PRIVATE_KEY = key.decode()
    server = dns_server(
        {
            "example.org": ["v=spf1 mx include:_spf.provider.example -all", "google-site-verification=abc"],
            "speakout._domainkey.example.org": [signing.dns_record(key)],
            "_dmarc.example.org": ["v=DMARC1; p=quarantine; rua=mailto:dmarc@example.org"],
        }
    )
    output, error = run(server)
    assert error is None, output
    assert "OK       SPF: example.org: v=spf1 mx include:_spf.provider.example -all" in output
    assert "OK       DKIM: speakout._domainkey.example.org publishes the key mail is signed with." in output
    assert "OK       DMARC: _dmarc.example.org: p=quarantine" in output
    assert "Mail set-up looks right." in output
    assert {"example.org", "speakout._domainkey.example.org", "_dmarc.example.org"} <= set(server.asked)


def test_what_is_missing_is_named_with_what_to_publish(dns_server, settings, key):
    settings.SPEAKOUT_DKIM_PRIVATE_KEY = key.decode()
    server = dns_server({"example.org": ["google-site-verification=abc"]})
    output, error = run(server)
    assert error == "3 thing(s) to fix; docs/email.md says how."
    assert "MISSING  SPF: No SPF record at example.org." in output
    assert (
        "MISSING  DKIM: Mail is signed, but no DKIM record is published at speakout._domainkey.example.org. "
        f"Publish this TXT record: {signing.dns_record(key)}" in output
    )
    assert "MISSING  DMARC: No DMARC record at _dmarc.example.org." in output


def test_a_stale_dkim_key_and_unsafe_spf_are_problems(dns_server, settings, key):
    settings.SPEAKOUT_DKIM_PRIVATE_KEY = key.decode()
    other = signing.generate_key(1024)
    server = dns_server(
        {
            "example.org": ["v=spf1 +all"],
            "speakout._domainkey.example.org": [signing.dns_record(other)],
            "_dmarc.example.org": ["v=DMARC1; p=none"],
        }
    )
    output, error = run(server)
    assert error is not None
    assert "PROBLEM  SPF: The SPF record at example.org lets any server send as it" in output
    assert "PROBLEM  DKIM: The record at speakout._domainkey.example.org holds another key" in output
    assert "NOTE     DMARC: _dmarc.example.org: p=none, reports only." in output


def test_without_a_key_it_says_mail_is_not_signed(dns_server):
    server = dns_server({"example.org": ["v=spf1 mx -all"], "_dmarc.example.org": ["v=DMARC1; p=reject"]})
    output, error = run(server)
    assert error == "1 thing(s) to fix; docs/email.md says how."
    assert "MISSING  DKIM: Mail is not signed: no DKIM key" in output
    assert "speakout manage dkim_key" in output


def test_a_bounce_address_at_another_domain_needs_its_own_spf(dns_server, settings):
    settings.SPEAKOUT_BOUNCE_ADDRESS = "bounces@bounces.example.net"
    server = dns_server({"example.org": ["v=spf1 mx -all"], "bounces.example.net": []})
    output, _ = run(server)
    assert "MISSING  SPF (bounce address): No SPF record at bounces.example.net." in output
    assert "NOTE     SPF (bounce address): The envelope sender is at bounces.example.net, not at example.org" in output


def test_dns_failures_are_said_plainly(dns_server):
    output, error = run(dns_server({}), domain="nowhere.example.org")
    assert "PROBLEM  DNS: The domain nowhere.example.org does not exist in DNS." in output
    assert error is not None

    output, _ = run(dns_server({}, servfail={"example.org"}))
    assert (
        "PROBLEM  DNS: Could not check: the DNS servers could not answer for example.org (SERVFAIL or refused)"
        in output
    )
    assert "Nothing else was looked up." in output

    silent = dns_server({}, silent=True)
    output, error = run(silent)
    assert "PROBLEM  DNS: Could not check: no DNS server answered within 1 seconds (asked about example.org)" in output
    assert error == "1 thing(s) to fix; docs/email.md says how."
