"""`speakout run` as an operator uses it: a real process, real HTTP, Ctrl-C to stop.

These tests never touch the test run's database: the server has its own (SQLite in its data
folder, or a fresh PostgreSQL database when DATABASE_URL is set), and everything is checked over
HTTP or through the `speakout` command run against the same data folder and database.
"""

from __future__ import annotations

import http.client
import http.cookiejar
import re
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

from tests.integration.server import port_accepts_connections, start_server

pytestmark = [pytest.mark.server, pytest.mark.xdist_group("server")]

PUBLIC_PATHS = [
    "/",
    "/reports/peer-safety-conference-lisbon/",
    "/reports/feed/rss/",
    "/sitemap.xml",
    "/robots.txt",
]


@pytest.mark.parametrize("path", PUBLIC_PATHS)
def test_public_addresses_answer(speakout_server, path):
    status, headers, body = speakout_server.get(path)
    assert status == 200, f"{path} answered {status}\n{speakout_server.log[-3000:]}"
    assert body


def test_home_page_shows_the_demo_site(speakout_server):
    status, headers, body = speakout_server.get("/")
    html = body.decode()
    assert status == 200
    assert headers.get_content_type() == "text/html"
    assert "Harbour Lane Collective" in html
    assert "Content-Security-Policy" in headers


def test_feed_and_sitemap_use_the_address_it_listens_on(speakout_server):
    _, _, feed = speakout_server.get("/reports/feed/rss/")
    assert f"{speakout_server.base_url}/reports/peer-safety-conference-lisbon/" in feed.decode()
    _, _, sitemap = speakout_server.get("/sitemap.xml")
    locations = re.findall(r"<loc>([^<]+)</loc>", sitemap.decode())
    assert locations
    assert all(loc.startswith(speakout_server.base_url + "/") for loc in locations), locations
    _, _, robots = speakout_server.get("/robots.txt")
    assert f"Sitemap: {speakout_server.base_url}/sitemap.xml" in robots.decode()


def test_printed_admin_login_works(speakout_server):
    assert speakout_server.admin_username == "admin", speakout_server.log
    assert speakout_server.admin_password, f"no password printed:\n{speakout_server.log}"

    cookies = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(cookies))
    login_url = speakout_server.url("/admin/login/")
    with browser.open(login_url, timeout=20) as response:
        # The admin's login hands over to the site's one login (allauth: rate limits and MFA).
        login_url = response.geturl()
        assert urllib.parse.urlsplit(login_url).path == "/accounts/login/", login_url
        form = response.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    assert token, "no CSRF token in the login form"
    data = urllib.parse.urlencode(
        {
            "csrfmiddlewaretoken": token.group(1),
            "login": speakout_server.admin_username,
            "password": speakout_server.admin_password,
            "next": "/admin/",
        }
    ).encode()
    request = urllib.request.Request(login_url, data=data, headers={"Referer": login_url})
    with browser.open(request, timeout=30) as response:
        final_url = response.geturl()
        dashboard = response.read().decode()
    assert urllib.parse.urlsplit(final_url).path == "/admin/", f"landed on {final_url}"
    assert "sessionid" in {cookie.name for cookie in cookies}
    # Wagtail's dashboard, signed in: its page title and the sign-out form.
    assert re.search(r"<title>[^<]*Dashboard", dashboard), dashboard[:2000]
    assert "/admin/logout/" in dashboard


def _page_count(server) -> int:
    result = server.command("manage", "shell", "-c", "from wagtail.models import Page; print(Page.objects.count())")
    assert result.returncode == 0, result.stdout + result.stderr
    return int(result.stdout.strip().splitlines()[-1])


def test_setup_again_changes_nothing(speakout_server):
    before = _page_count(speakout_server)
    assert before > 5  # root, home, reports index, reports, pages

    result = speakout_server.command("setup")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Demo content not loaded" in output
    assert "password:" not in output
    assert speakout_server.admin_password not in output
    assert "user 'admin'" in output  # it names the existing admin instead

    assert _page_count(speakout_server) == before


@pytest.mark.parametrize(
    "whole_group",
    [
        # `kill -INT <pid>`: only the main process gets it and must stop the rest itself.
        pytest.param(False, id="kill-int-pid"),
        # Ctrl-C in a terminal: the shell signals the whole process group.
        pytest.param(True, id="ctrl-c-in-terminal"),
    ],
)
def test_sigint_stops_everything(speakout_server, tmp_path, whole_group):
    """Its own `speakout run` (on a copy of the shared server's database, to skip migrating)."""
    server = start_server(tmp_path, share_database_with=speakout_server)
    try:
        children = dict(server.children)
        assert any("granian" in args for args in children.values()), children
        assert any("speakout.cli worker" in args for args in children.values()), children

        started = time.monotonic()
        exit_code = server.stop(whole_group=whole_group)
        elapsed = time.monotonic() - started

        assert exit_code == 0, f"exit code {exit_code} after {elapsed:.1f} s\n{server.log}"
        assert elapsed < 30
        assert "Speakout stopped." in server.log
        assert "stopped unexpectedly" not in server.log
        assert not port_accepts_connections(server.port), "the port still accepts connections"
        leftovers = server.leftover_processes()
        assert not leftovers, f"processes left running: {leftovers}"
        ps = subprocess.run(["ps", "-ww", "-eo", "pid,ppid,args"], capture_output=True, text=True).stdout
        assert not [line for line in ps.splitlines() if re.search(rf"--port {server.port}\b", line)]
    finally:
        server.cleanup()


def test_head_from_the_page_cache_has_the_length_of_the_get(speakout_server):
    path = "/reports/peer-safety-conference-lisbon/"
    speakout_server.get(path)
    status, _headers, body = speakout_server.get(path)
    assert status == 200
    connection = http.client.HTTPConnection("127.0.0.1", speakout_server.port, timeout=20)
    try:
        connection.request("HEAD", path, headers={"Accept-Encoding": "identity"})
        response = connection.getresponse()
        assert response.status == 200 and response.read() == b""
        assert response.getheader("X-Speakout-Cache") == "hit"
        assert response.getheader("Content-Length") in (None, str(len(body)))
    finally:
        connection.close()
