"""Every route that takes a key or an id, with hostile keys and ids in its path, its query string
and its form or JSON body: a NUL (PostgreSQL cannot store one in text), a superscript digit
("²".isdigit() is true, int("²") fails), an integer too large for the database; every parameter a
view reads, with a fraction, a word, a broken escape or 1,000 characters; an empty body. For a guest and
for a signed-in writer, each answer is a 4xx or a normal page, never a 500. The routes come from
the URL configuration itself, so a new route is covered without editing this file."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from django.urls import get_resolver

from speakout.embed.models import AllowedOrigin
from speakout.publishing.discussion import thread_for_report
from speakout.theme.languages import content_prefixes
from tests.discussion.helpers import add_reply
from tests.security.routes import routes

pytestmark = pytest.mark.django_db

NUL = "%00"
SUPERSCRIPT = "%C2%B2"
HUGE = "99999999999999999999"
# Values for the path's converters: the converter decides which can reach the view.
PATH_VALUES = {"int": ["0", HUGE], "str": [NUL, SUPERSCRIPT, "x"], "slug": ["x"], "path": [NUL, SUPERSCRIPT, "x/y"]}
# Every parameter a view of ours reads from the query string or a body.
PARAMETERS = (
    "key thread uri id parent replyto reply_to page q next reply flavour after domain folder held hold lang limit "
    "nested_limit offset origin p plain replies replies_page resource sent sort status url"
).split()
HOSTILE_VALUES = ("\0", "a\0b", "²", HUGE, "-1")
# Query values beyond the keys' and ids': a number with a fraction, a word, a broken escape, very long text.
HOSTILE_QUERY_VALUES = ("1.5", "abc", "%ff", "x" * 1000)
# Not covered here, and why.
EXCLUDED_PREFIXES = {
    # Anonymous requests are sent to the login page before any admin view reads a key.
    "admin/": "the Wagtail admin, behind a staff login",
}


# A regex group, named or not, with at most one level of nested parentheses.
_GROUP = re.compile(r"\((?:\?P<\w+>)?(?:[^()]|\([^()]*\))*\)")


def _regex_addresses(route: str) -> list[str]:
    """Addresses for a route with regex parts: each group filled with each hostile value."""
    route = route.replace("^", "").replace("$", "")
    addresses = [route]
    while _GROUP.search(addresses[0]):
        addresses = [
            _GROUP.sub(value, address, count=1) for address in addresses for value in ("x", "0", HUGE, NUL, SUPERSCRIPT)
        ]
    return ["/" + address for address in addresses]


# How speakout.publishing.languages.ContentLanguagePrefix prints: Wagtail's pages under /fr/ etc.
LANGUAGE_PREFIX = "<language>/"


def _addresses(route: str) -> list[str]:
    """Addresses for a route string, each converter filled with each of its hostile values."""
    if route.startswith(LANGUAGE_PREFIX):
        unprefixed = _addresses(route.removeprefix(LANGUAGE_PREFIX))
        return unprefixed + [f"/{code}{address}" for code in content_prefixes() for address in unprefixed]
    if "^" in route or "(?P" in route or route.endswith("$"):
        return _regex_addresses(route) if "<" not in _GROUP.sub("", route) else []
    addresses = [route]
    for converter, name in re.findall(r"<(?:(\w+):)?(\w+)>", route):
        converter = converter or "str"
        values = PATH_VALUES.get(converter, ["x"])
        placeholder = f"<{converter + ':' if converter and f'<{converter}:' in route else ''}{name}>"
        if placeholder not in route:
            placeholder = f"<{name}>"
        addresses = [address.replace(placeholder, value, 1) for address in addresses for value in values]
    return ["/" + address for address in addresses]


def _queries() -> list[str]:
    queries = []
    for value in ("%00", "a%00b", SUPERSCRIPT, HUGE, "-1", *HOSTILE_QUERY_VALUES):
        queries.append("?" + "&".join(f"{name}={value}" for name in PARAMETERS))
    return queries


def _bodies(thread_key: str) -> list[dict]:
    """Every parameter hostile; then the same with a real thread key, so the hostile parent or
    reply id reaches the code past the thread lookup."""
    bodies = [{name: value for name in PARAMETERS} | {"body": "x", "name": "A"} for value in HOSTILE_VALUES]
    return bodies + [body | {"thread": thread_key, "key": thread_key} for body in bodies]


@pytest.fixture
def world(site_builder, settings):
    settings.SPEAKOUT_DISCUSSION_SECONDS_BETWEEN_REPLIES = 0
    report = site_builder.report("A report")
    thread_for_report(report)
    AllowedOrigin.objects.create(origin="https://blog.example.org")
    return report


@pytest.fixture(params=[False, True], ids=["guest", "signed-in writer"])
def visitor(request, world, django_user_model) -> tuple[Client, bool]:
    """A guest, or a signed-in reader with a reply of their own and an answer to it (the pages
    and lists they see take other paths); and whether signed in."""
    client = Client(raise_request_exception=False)
    if request.param:
        writer = django_user_model.objects.create_user("robin", "robin@example.org", "a long passphrase 42")
        reply = add_reply(thread_for_report(world), "A reply of their own.", name="Robin", user=writer)
        add_reply(thread_for_report(world), "An answer.", name="Sam", parent=reply)
        client.force_login(writer)
    return client, request.param


def _check(client: Client, method: str, address: str, failures: list, **kwargs) -> None:
    response = getattr(client, method)(address, **kwargs)
    if response.status_code >= 500:
        failures.append(f"{method.upper()} {address} {kwargs.get('data', '')!r:.120}")


def test_every_route_taking_a_key_or_id_answers_hostile_values_without_a_500(world, visitor):
    client, signed_in = visitor
    # Signed in, the hostile bodies take the paths a guest's take (parsed before anyone is
    # looked at): the queries and the empty bodies are what a signed-in page reads differently.
    bodies = [{}] if signed_in else [{}, *_bodies(world.thread_key)]
    covered = 0
    unknown = []
    failures = []
    for route, _pattern in routes(get_resolver().url_patterns):
        if any(route.startswith(prefix) for prefix in EXCLUDED_PREFIXES):
            continue
        addresses = _addresses(route)
        if not addresses:
            unknown.append(route)
            continue
        for address in addresses:
            for query in ["", *_queries()]:
                _check(client, "get", address + query, failures)
            _check(client, "post", address, failures, data="", content_type="application/json")
            for body in bodies:
                _check(client, "post", address, failures, data=body)
                _check(client, "post", address, failures, data=json.dumps(body), content_type="application/json")
            covered += 1
    assert not failures, "\n".join(failures)
    assert not unknown, f"routes this test cannot fill in (teach _addresses their syntax): {unknown}"
    assert covered > 40, "the URL configuration was read"


def test_pages_served_by_wagtail_take_hostile_query_values(world, client):
    failures = []
    hosted = "/embed/thread/?origin=https://blog.example.org&uri=/post/"
    for address in [world.url, "/", "/reports/", hosted]:
        for query in _queries():
            joiner = "&" if "?" in address else ""
            target = address + (joiner + query[1:] if joiner else query)
            _check(Client(raise_request_exception=False), "get", target, failures)
    assert not failures, "\n".join(failures)
