"""PostgreSQL stops mid-load (a private cluster of the test's own; the shared server is never
touched): replies, contact messages and subscription requests get a 503 "could not save" with
the typed text, never a 500; when PostgreSQL is back, the same server process serves again by
itself (persistent connections are health-checked, SPEAKOUT_DB_CONN_MAX_AGE)."""

from __future__ import annotations

import html
import http.cookiejar
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest

from tests.integration.server import descendants
from tests.reliability.harness import PrivatePostgres, public_thread_key, stored_submissions, wait_until
from tests.reliability.load import FORM_AGE, figures, gather, run_clients

pytestmark = [pytest.mark.server, pytest.mark.xdist_group("server")]

TEXT = "Written while the database was away.\nSecond line — with ünïcödé and <tags> & 🌧 kept."


@pytest.fixture
def private_postgres(base_site):
    cluster = PrivatePostgres()
    try:
        cluster.initialise()
        yield cluster
    finally:
        cluster.destroy()


class Browser:
    """A reader with cookies, filling in forms the way the pages give them, with a browser's headers."""

    def __init__(self, server):
        self.server = server
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str) -> str:
        with self.opener.open(self.server.url(path), timeout=20) as response:
            return response.read().decode()

    def post(self, path: str, fields: dict) -> tuple[int, str]:
        data = urllib.parse.urlencode(fields).encode()
        # What a browser sends with a same-origin form (the site's CSRF check reads these headers).
        headers = {
            "Referer": self.server.url(path),
            "Origin": self.server.url("/").rstrip("/"),
            "Sec-Fetch-Site": "same-origin",
        }
        request = urllib.request.Request(self.server.url(path), data=data, headers=headers)
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()


def form_fields(page: str, action: str) -> dict[str, str]:
    """The hidden and prefilled fields of the form posting to ``action``."""
    form = re.search(rf'<form[^>]*action="{re.escape(action)}"[^>]*>(.*?)</form>', page, re.DOTALL)
    assert form, f"no form posting to {action}"
    fields = {}
    for tag in re.findall(r"<input[^>]*>", form.group(1)):
        name = re.search(r'name="([^"]*)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        kind = re.search(r'type="([^"]*)"', tag)
        if name and (kind is None or kind.group(1) not in ("checkbox", "radio", "submit")):
            fields[html.unescape(name.group(1))] = html.unescape(value.group(1)) if value else ""
    return fields


def text_in_page(page: str, text: str) -> bool:
    return html.escape(text, quote=True) in page or html.escape(text, quote=False) in page


def test_postgres_stopping_mid_load_gives_503s_with_the_text_and_service_resumes(
    base_site, private_postgres, make_server
):
    database_url = private_postgres.load_from(base_site.database_url)
    server = make_server(database_url=database_url)
    processes_before = {server.process.pid, *descendants(server.process.pid)}
    key = public_thread_key(server)

    # A reader opens the report, the contact page and the follow form while all is well.
    reader = Browser(server)
    report_path = run_path(server, key)
    report = reader.get(report_path)
    reply_form = form_fields(report, "/discussion/post/")
    contact = reader.get("/contact-us/")
    contact_form = form_fields(contact, "/contact-us/")
    follow_form = form_fields(report, "/subscriptions/follow/")
    token = api_form_token(server, key)
    time.sleep(FORM_AGE)

    marker = "postgres-outage"
    # The clients press "send again" on a 503 (same submission id) for up to two minutes.
    futures = run_clients(
        server.base_url,
        key,
        processes=4,
        total=300,
        marker=marker,
        retry_until=time.time() + 120,
        request_timeout=15,
    )
    assert wait_until(lambda: len(stored_submissions(server, marker)) >= 40, timeout=120), server.log[-3000:]
    private_postgres.stop("fast")
    down_at = time.monotonic()

    # While it is down: each kind of submission gets the 503 page with what was typed.
    status, page = reader.post(
        "/discussion/post/", {**reply_form, "name": "Ines", "email": "ines@example.org", "body": TEXT}
    )
    assert status == 503, page[:2000]
    assert "Could not save, please try again" in page and text_in_page(page, TEXT)
    status, page = reader.post(
        "/contact-us/", {**contact_form, "name": "Ines", "email": "ines@example.org", "message": TEXT}
    )
    assert status == 503, page[:2000]
    assert text_in_page(page, TEXT)
    status, page = reader.post(
        "/subscriptions/follow/", {**follow_form, "email": "ines@example.org", "notify_replies": "on"}
    )
    assert status == 503, page[:2000]
    assert 'value="ines@example.org"' in page
    status, answer = api_post(server, key, token, {"name": "Ines", "email": "ines@example.org", "body": TEXT})
    assert status == 503 and answer["submitted"]["body"] == TEXT, answer

    time.sleep(max(0.0, 5 - (time.monotonic() - down_at)))  # let the clients meet the outage too
    private_postgres.start()
    # Back, with no restart: the next submissions are stored.
    assert wait_until(
        lambda: (
            api_post(server, key, token, {"name": "Ines", "email": "ines@example.org", "body": "Back again."})[0]
            in (200, 201)
        ),
        timeout=30,
        interval=1,
    ), server.log[-3000:]
    attempts = gather(futures, timeout=180)
    result = figures(attempts, stored_submissions(server, marker))
    print("\n" + result.line("postgres stopped mid-load"))

    assert result.met_503 > 0, "the load never met the outage"
    assert all(a.text_returned for a in attempts), "a 503 did not return the text"
    assert result.server_errors == 0, server.log[-3000:]
    assert result.no_answer == 0
    assert result.lost == 0 and result.duplicated == 0
    # Every reply sent again after its 503 was stored once PostgreSQL was back.
    assert result.accepted == result.stored == result.attempts
    assert server.process.poll() is None, "speakout run stopped"
    assert processes_before <= {server.process.pid, *descendants(server.process.pid)}, "a process was restarted"


def run_path(server, key: str) -> str:
    from tests.reliability.harness import run_sql

    rows = run_sql(
        server.database_url, server.data_dir, "SELECT url FROM speakout_discussion_thread WHERE key = %s", (key,)
    )
    return urllib.parse.urlsplit(rows[0][0]).path


def api_form_token(server, key: str) -> str:
    return json.loads(server.get(f"/api/threads/{key}")[2])["form_token"]


RETRY_ID = uuid.uuid4().hex  # the "back again" reply is one submission, however often it is tried


def api_post(server, key: str, token: str, fields: dict) -> tuple[int, dict]:
    submission_id = RETRY_ID if fields["body"] == "Back again." else uuid.uuid4().hex
    payload = {**fields, "form_token": token, "submission_id": submission_id}
    request = urllib.request.Request(
        server.url(f"/api/threads/{key}/replies"),
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")
    except OSError:
        return 0, {}
