"""The server-side fetcher refuses addresses inside the network, before connecting and after
every redirect, and stops at its size and time limits. Its only test server listens on
127.0.0.1; reaching it needs the test-only ``SPEAKOUT_FETCH_ALLOWED_NETWORKS``."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from speakout.net.fetch import FetchRefused, fetch


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        self.server.hits.append(self.path)
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", self.path.split("?to=", 1)[1])
            self.end_headers()
            return
        body = b"x" * 5000 if self.path == "/big" else b"hello"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.hits = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def url(server, path="/"):
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


def test_loopback_is_refused_by_default_without_a_connection(server, settings):
    settings.SPEAKOUT_FETCH_ALLOWED_NETWORKS = []
    for target in (url(server), f"http://localhost:{server.server_address[1]}/"):
        with pytest.raises(FetchRefused, match="not public"):
            fetch(target)
    assert server.hits == []


@pytest.mark.parametrize(
    "target",
    [
        "http://10.0.0.1/",
        "http://192.168.1.1/",
        "http://172.16.5.4/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[fe80::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[fc00::1]/",
        "http://224.0.0.1/",
        "http://0.0.0.0/",
        "http://240.0.0.1/",
        "http://100.64.0.1/",
        # IPv6 addresses that carry an IPv4 address inside (NAT64, 6to4, IPv4-compatible,
        # IPv4-translated), and the old site-local block: Python's is_global calls them global.
        "http://[64:ff9b::a9fe:a9fe]/",
        "http://[64:ff9b:1::a00:1]/",
        "http://[2002:7f00:1::]/",
        "http://[::7f00:1]/",
        "http://[::ffff:0:a00:1]/",
        "http://[fec0::1]/",
    ],
)
def test_inside_addresses_are_refused(target, settings):
    settings.SPEAKOUT_FETCH_ALLOWED_NETWORKS = []
    with pytest.raises(FetchRefused, match="not public"):
        fetch(target)


@pytest.mark.parametrize(
    "target", ["file:///etc/passwd", "ftp://example.org/", "gopher://x/", "http://a:b@example.org/"]
)
def test_other_schemes_and_credentials_are_refused(target):
    with pytest.raises(FetchRefused):
        fetch(target)


def test_the_test_override_reaches_the_loopback_server(server, settings):
    settings.SPEAKOUT_FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    fetched = fetch(url(server, "/hello"))
    assert fetched.status == 200 and fetched.body == b"hello" and fetched.content_type == "text/plain"


def test_no_redirect_into_the_network_is_followed(server, settings):
    settings.SPEAKOUT_FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    assert fetch(url(server, "/redirect?to=/hello")).body == b"hello"
    for inside in ("http://127.0.0.2:9/", "http://169.254.169.254/", "http://[::1]/", "http://10.0.0.1/"):
        with pytest.raises(FetchRefused, match="not public"):
            fetch(url(server, f"/redirect?to={inside}"))


def test_redirect_loops_and_large_answers_stop(server, settings):
    settings.SPEAKOUT_FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    loop = url(server, "/redirect?to=" + url(server, "/redirect?to=" + url(server, "/hello")))
    with pytest.raises(FetchRefused, match="redirects"):
        fetch(loop, max_redirects=1)
    with pytest.raises(FetchRefused, match="larger than"):
        fetch(url(server, "/big"), max_bytes=1000)


def test_a_silent_server_times_out(settings):
    import socket

    settings.SPEAKOUT_FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts the connection, never answers
    try:
        with pytest.raises(FetchRefused):
            fetch(f"http://127.0.0.1:{listener.getsockname()[1]}/", timeout=0.5)
    finally:
        listener.close()


@pytest.mark.parametrize("stage", ["headers", "body"])
def test_a_trickling_server_is_cut_off_at_the_time_limit(stage, settings):
    """A byte at a time, each within the socket timeout, never holds a fetch past its limit: the
    limit is for the whole fetch, not for each read."""
    import socket
    import time

    settings.SPEAKOUT_FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def trickle():
        connection, _address = listener.accept()
        connection.recv(4096)
        if stage == "body":
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n")
        for _byte in range(40):
            try:
                connection.sendall(b"x")
            except OSError:
                break
            time.sleep(0.1)
        connection.close()

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    started = time.monotonic()
    try:
        with pytest.raises(FetchRefused):
            fetch(f"http://127.0.0.1:{listener.getsockname()[1]}/", timeout=0.5)
        assert time.monotonic() - started < 2
    finally:
        thread.join(5)
        listener.close()
