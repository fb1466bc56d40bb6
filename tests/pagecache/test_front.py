"""The WSGI front of the page cache: it answers what Django would answer from the cache, with the
same headers (a stored page is the same bytes for every reader), and sends everything else to
Django. These tests call the WSGI application as granian does."""

from __future__ import annotations

import gzip
import io
import os
import re
import sys
import uuid

import brotli
import pytest
import redis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client

from speakout.discussion import services
from speakout.discussion.models import Reply, Thread
from speakout.net import rediscache
from speakout.pagecache.front import PageCacheFront
from speakout.pagecache.middleware import STATUS_HEADER

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')
SUBMISSION = re.compile(r'name="submission_id" value="([^"]+)"')
# Headers the middleware above the page cache adds; the front must send them too.
OUTER_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "Content-Language")


class CountingDjango:
    """Django's WSGI application, counting the requests that reach it."""

    def __init__(self):
        self.handler = WSGIHandler()
        self.calls = 0

    def __call__(self, environ, start_response):
        self.calls += 1
        return self.handler(environ, start_response)


class Answer:
    def __init__(self, status: str, headers: list[tuple[str, str]], body: bytes):
        self.status = int(status.split()[0])
        self.headers = headers
        self.body = body

    def __getitem__(self, name: str) -> str:
        values = [value for key, value in self.headers if key.lower() == name.lower()]
        if not values:
            raise KeyError(name)
        return values[0]

    def __contains__(self, name: str) -> bool:
        return any(key.lower() == name.lower() for key, _value in self.headers)

    @property
    def cookies(self) -> dict[str, str]:
        found = {}
        for key, value in self.headers:
            if key.lower() == "set-cookie":
                name, _eq, rest = value.strip().partition("=")
                found[name] = rest.split(";")[0]
        return found

    @property
    def text(self) -> str:
        encoding = self["Content-Encoding"] if "Content-Encoding" in self else ""
        body = {"gzip": gzip.decompress, "br": brotli.decompress}.get(encoding, lambda data: data)(self.body)
        return body.decode()


def call(app, path: str, *, method: str = "GET", query: str = "", cookies: dict | None = None, **headers) -> Answer:
    environ = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": query,
        "SERVER_NAME": "testserver", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "testserver",
        "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr,
    }  # fmt: skip
    if cookies:
        environ["HTTP_COOKIE"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    for name, value in headers.items():
        environ["HTTP_" + name.upper()] = value
    captured = {}

    def start_response(status, response_headers, exc_info=None):
        captured["status"], captured["headers"] = status, response_headers

    # As Django's test client does: the request must not close the connection that holds the
    # test's transaction.
    signals = (request_started, request_finished)
    for signal in signals:
        signal.disconnect(close_old_connections)
    try:
        chunks = app(environ, start_response)
        try:
            body = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
    finally:
        for signal in signals:
            signal.connect(close_old_connections)
    return Answer(captured["status"], captured["headers"], body)


@pytest.fixture
def django_app():
    return CountingDjango()


@pytest.fixture
def front(django_app):
    return PageCacheFront(django_app)


def published_reply(report, body: str) -> Reply:
    result = services.submit_reply(
        thread=Thread.objects.get(key=report.thread_key),
        data={"thread": report.thread_key, "name": "Bo", "email": "bo@example.org", "body": body},
        author=services.Author(client_hash="tests"),
        checks=[],
    )
    assert result.outcome == services.PUBLISHED
    return result.reply


def test_a_repeated_anonymous_request_is_answered_without_django(front, django_app, report):
    first = call(front, report.url)
    second = call(front, report.url)
    third = call(front, report.url)
    assert (first.status, second.status, third.status) == (200, 200, 200)
    assert first[STATUS_HEADER] == "miss"
    assert django_app.calls == 1
    assert second[STATUS_HEADER] == third[STATUS_HEADER] == "hit"
    assert "Rents in the old town" in third.text and "Leave a Reply" in third.text
    assert "speakout-hole-" not in second.text


def test_the_fronts_answer_has_djangos_headers(front, django_app, report):
    through_django = call(django_app, report.url, accept_encoding="gzip")
    through_django = call(django_app, report.url, accept_encoding="gzip")  # a hit, through Django
    assert through_django[STATUS_HEADER] == "hit"
    call(front, report.url, accept_encoding="gzip")  # learns this request's shape
    calls = django_app.calls
    answer = call(front, report.url, accept_encoding="gzip")
    assert django_app.calls == calls
    for name in (*OUTER_HEADERS, "X-Frame-Options", "Content-Type", "Cache-Control", "Content-Encoding"):
        assert answer[name] == through_django[name], name
    assert set(answer["Vary"].split(", ")) == set(through_django["Vary"].split(", "))
    assert answer["ETag"] == through_django["ETag"] and answer["Last-Modified"]
    assert int(answer["Content-Length"]) == len(answer.body)
    assert answer["Content-Encoding"] == "gzip"


def test_every_reader_gets_the_same_bytes_and_fills_in_their_own_tokens(front, django_app, report):
    call(front, report.url)
    call(front, report.url)  # learnt
    calls = django_app.calls
    ada, bo = call(front, report.url), call(front, report.url, cookies={"csrftoken": "x" * 32})
    assert django_app.calls == calls and ada[STATUS_HEADER] == bo[STATUS_HEADER] == "hit"
    # Nothing of one reader's: the same bytes, no cookie set or read, so a CDN may keep it.
    assert ada.body == bo.body and not ada.cookies and not bo.cookies
    assert ada["Cache-Control"] == "public, no-cache" and not ada["ETag"].startswith("W/")
    markers = sorted(set(re.findall(r'value="(fill:[^"]+)"', ada.text)))
    assert len(markers) == 2  # the time-trap token, the submission id (no CSRF token at all)
    assert not TOKEN.findall(ada.text)
    # What pagecache/fill.js does: fresh values for this reader; no cookie is needed to post.
    browser = Client(enforce_csrf_checks=True)
    values = browser.get("/pagecache/fill", {"m": markers}).json()["values"]
    html = ada.text
    for marker, value in zip(markers, values, strict=True):
        html = html.replace(f'value="{marker}"', f'value="{value}"')
    sent = browser.post(
        "/discussion/post/",
        {"thread": report.thread_key, "name": "Ada", "email": "ada@example.org", "body": "Through the front.",
         "form_token": FORM_TOKEN.findall(html)[0], "submission_id": SUBMISSION.findall(html)[0]},
        headers={"Sec-Fetch-Site": "same-origin"},
    )  # fmt: skip
    assert sent.status_code == 303, sent.content[:300]
    assert "Through the front." in call(front, report.url).text


def test_a_change_shows_on_the_next_request(front, django_app, report):
    call(front, report.url)
    call(front, report.url)
    reply = published_reply(report, "A new approved reply.")
    assert "A new approved reply." in call(front, report.url).text
    services.set_status(reply, Reply.Status.TRASH, reason="Off topic")
    assert "A new approved reply." not in call(front, report.url).text
    report.title = "Rents in the old town, revised"
    report.save_revision().publish()
    shown = call(front, report.url)
    assert "Rents in the old town, revised" in shown.text
    assert call(front, report.url)[STATUS_HEADER] == "hit"


@pytest.fixture
def redis_as_cache(settings):
    """The shared cache of production (Redis), under a prefix of this test's own."""
    url = os.environ.get("SPEAKOUT_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
    prefix = f"test-front-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {"BACKEND": "speakout.net.rediscache.SharedClientRedisCache", "LOCATION": url, "KEY_PREFIX": prefix}
    }
    settings.SPEAKOUT_PAGE_CACHE_VERSIONS_DIR = ""  # the counters in Redis, as with PostgreSQL
    yield
    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)


def test_with_redis_a_hit_reads_only_the_versions_and_a_change_still_shows(
    redis_as_cache, front, django_app, report, monkeypatch
):
    call(front, report.url)
    call(front, report.url)
    reads = []
    exchange = rediscache._exchange

    def sending(connection, packed):
        reads.append(packed)
        return exchange(connection, packed)

    monkeypatch.setattr(rediscache, "_exchange", sending)
    assert call(front, report.url)[STATUS_HEADER] == "hit"
    assert [command.split(b"\r\n")[2] for command in reads] == [b"MGET"], "one read of the versions, not of the page"
    test_a_change_shows_on_the_next_request(front, django_app, report)


def test_not_modified_for_a_reader_with_the_copy(front, report):
    call(front, report.url)
    first = call(front, report.url)
    same = call(front, report.url, if_none_match=first["ETag"])
    assert same.status == 304 and same.body == b"" and same["ETag"] == first["ETag"]
    published_reply(report, "News.")
    changed = call(front, report.url, if_none_match=first["ETag"])
    assert changed.status == 200 and "News." in changed.text


@pytest.mark.parametrize(
    "request_kwargs",
    [
        {"cookies": {"sessionid": "abc"}},
        {"cookies": {"speakout_guest": "abc"}},
        {"query": "replies=newest"},
        {"method": "HEAD"},
        {"origin": "https://elsewhere.example"},
        {"x_speakout_guest": "token"},
        {"authorization": "Basic eDp5"},
    ],
    ids=["session", "guest-cookie", "query", "head", "origin", "guest-header", "authorization"],
)
def test_anything_personal_or_unusual_goes_to_django(front, django_app, report, request_kwargs):
    call(front, report.url)
    call(front, report.url)
    calls = django_app.calls
    for _round in range(2):
        call(front, report.url, **request_kwargs)
    assert django_app.calls == calls + 2


def test_posts_the_admin_and_unknown_hosts_go_to_django(front, django_app, report):
    for _round in range(2):
        call(front, "/admin/login/")
        call(front, report.url, host="evil.example")
    assert django_app.calls == 4
    refused = call(front, report.url, host="evil.example")
    assert refused.status == 400


def test_thread_json_is_never_stored_each_answer_has_its_own_token_and_new_replies(front, django_app, report):
    url = f"/api/threads/{report.thread_key}"
    call(front, url)
    first = call(front, url)
    calls = django_app.calls
    second = call(front, url)
    assert django_app.calls == calls + 1 and STATUS_HEADER not in second
    assert "no-store" in second["Cache-Control"] and second["Content-Type"].startswith("application/json")
    assert first.text != second.text  # a fresh form token each time
    published_reply(report, "Seen by the widget.")
    assert "Seen by the widget." in call(front, url).text


def test_switched_off_the_front_passes_everything_to_django(front, django_app, report, settings):
    settings.SPEAKOUT_PAGE_CACHE_ENABLED = False
    for _round in range(3):
        answer = call(front, report.url)
        assert STATUS_HEADER not in answer
    assert django_app.calls == 3


def test_page_cache_settings_changed_after_requests_count_on_the_next_one(front, django_app, report, settings):
    """The front keeps each setting once read (a plain attribute of app_settings): a change of
    setting still counts on the next request."""
    call(front, report.url)
    assert call(front, report.url)[STATUS_HEADER] == "hit" and django_app.calls == 1
    settings.SPEAKOUT_PAGE_CACHE_PERSONAL_HEADERS = (*settings.SPEAKOUT_PAGE_CACHE_PERSONAL_HEADERS, "HTTP_X_TENANT")
    call(front, report.url, x_tenant="a")
    assert django_app.calls == 2
    settings.SPEAKOUT_PAGE_CACHE_ENABLED = False
    assert STATUS_HEADER not in call(front, report.url) and django_app.calls == 3
