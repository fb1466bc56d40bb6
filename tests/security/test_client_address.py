"""Whose address counts: ``X-Forwarded-For`` is believed only from the proxies listed in
``SPEAKOUT_TRUSTED_PROXIES``, walked from the right; every limit (replies, contact, Isso, the
embed API, allauth's login counters) reads the same one function."""

from __future__ import annotations

import pytest
from allauth.account.adapter import get_adapter
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory

from speakout.discussion.clients import client_hash, client_hashes_for_ip
from speakout.net.addresses import client_ip
from tests.project.helpers import run_manage


def request_from(peer: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.SPEAKOUT_TRUSTED_PROXIES = []
    assert client_ip(request_from("198.51.100.7", "203.0.113.1")) == "198.51.100.7"


def test_a_spoofed_header_from_an_untrusted_peer_is_ignored(settings):
    settings.SPEAKOUT_TRUSTED_PROXIES = ["10.0.0.2"]
    assert client_ip(request_from("198.51.100.7", "203.0.113.1, 10.0.0.2")) == "198.51.100.7"


def test_a_trusted_proxy_is_honoured(settings):
    settings.SPEAKOUT_TRUSTED_PROXIES = ["10.0.0.2"]
    assert client_ip(request_from("10.0.0.2", "203.0.113.1")) == "203.0.113.1"


def test_what_the_client_wrote_left_of_the_proxy_is_not_believed(settings):
    settings.SPEAKOUT_TRUSTED_PROXIES = ["10.0.0.2"]
    # The client sent "X-Forwarded-For: 192.0.2.99"; the proxy appended the address it saw.
    assert client_ip(request_from("10.0.0.2", "192.0.2.99, 203.0.113.1")) == "203.0.113.1"


def test_networks_are_trusted_as_a_whole(settings):
    settings.SPEAKOUT_TRUSTED_PROXIES = ["10.1.0.0/16", "2001:db8::/32"]
    assert client_ip(request_from("10.1.200.3", "203.0.113.1")) == "203.0.113.1"
    assert client_ip(request_from("2001:db8::5", "2001:db8:ffff::1, 198.51.100.4")) == "198.51.100.4"
    assert client_ip(request_from("10.2.0.1", "203.0.113.1")) == "10.2.0.1"


def test_a_chain_of_trusted_proxies_is_walked_past(settings):
    settings.SPEAKOUT_TRUSTED_PROXIES = ["10.0.0.0/24", "172.16.0.9"]
    chain = "192.0.2.99, 203.0.113.1, 172.16.0.9, 10.0.0.7"
    assert client_ip(request_from("10.0.0.3", chain)) == "203.0.113.1"
    # Two headers arrive joined by a comma; proxies that write ports or brackets are understood.
    assert client_ip(request_from("10.0.0.3", "[2001:db8::1]:4711, 10.0.0.7:80")) == "2001:db8::1"


def test_when_every_hop_is_a_proxy_the_leftmost_counts(settings):
    settings.SPEAKOUT_TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_ip(request_from("10.0.0.3", "10.9.9.9, 10.0.0.7")) == "10.9.9.9"
    assert client_ip(request_from("10.0.0.3")) == "10.0.0.3"


@pytest.mark.django_db
def test_garbage_in_the_header_cannot_make_an_unlimited_client(settings):
    """An empty address would mean an empty client hash, which no per-client limit covers: the
    last address a trusted proxy vouched for stands in."""
    settings.SPEAKOUT_TRUSTED_PROXIES = ["10.0.0.2"]
    for junk in ("unknown", "", "not an address", "203.0.113.1, <script>", "999.1.1.1"):
        address = client_ip(request_from("10.0.0.2", junk))
        assert address == "10.0.0.2", junk
        assert client_hashes_for_ip(address)[0]


@pytest.mark.django_db
def test_allauth_counts_the_same_address(settings):
    settings.SPEAKOUT_TRUSTED_PROXIES = ["10.0.0.2"]
    adapter = get_adapter()
    assert adapter.get_client_ip(request_from("10.0.0.2", "203.0.113.1")) == "203.0.113.1"
    assert adapter.get_client_ip(request_from("198.51.100.7", "203.0.113.1")) == "198.51.100.7"
    with pytest.raises(PermissionDenied):
        adapter.get_client_ip(request_from(""))


@pytest.mark.django_db
def test_allauth_login_limit_is_per_forwarded_client(client, settings):
    """Behind a proxy, one client hitting the login limit does not lock out another, and a
    forged header from outside the proxy list lands on the sender's own counter."""
    settings.SPEAKOUT_TRUSTED_PROXIES = ["10.0.0.2"]
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "3/m/ip"}
    data = {"login": "nobody", "password": "wrong-password"}

    def post(peer, forwarded):
        return client.post("/accounts/login/", data, REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded).status_code

    assert [post("10.0.0.2", "203.0.113.1") for _ in range(4)] == [200, 200, 200, 429]
    assert post("10.0.0.2", "198.51.100.4") == 200
    assert [post("192.0.2.5", f"198.18.{n}.1") for n in range(4)] == [200, 200, 200, 429]


@pytest.mark.django_db
def test_every_limit_hashes_the_same_address(settings):
    settings.SPEAKOUT_TRUSTED_PROXIES = ["10.0.0.2"]
    assert client_hash(request_from("10.0.0.2", "203.0.113.1")) == client_hashes_for_ip("203.0.113.1")[0]
    assert client_hash(request_from("192.0.2.5", "203.0.113.1")) == client_hashes_for_ip("192.0.2.5")[0]


def test_a_bad_proxy_entry_stops_startup(tmp_path):
    result = run_manage("check", env_overrides={"SPEAKOUT_TRUSTED_PROXIES": "10.0.0.2,proxy.local"}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "'proxy.local' is not an IP address or network" in result.stderr


def test_the_old_count_setting_stops_startup_with_a_pointer(tmp_path):
    result = run_manage("check", env_overrides={"SPEAKOUT_TRUSTED_PROXY_COUNT": "1"}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "SPEAKOUT_TRUSTED_PROXIES" in result.stderr
