"""Requests an attacker or a broken client might send never make an address of ours or of
allauth's answer a server error: an empty POST (a form, or JSON), and query strings carrying
every parameter a view reads with hostile values (numbers too large or negative, words where
numbers go, markup, very long text). Bad input gets a clear error, or the page as usual."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.urls import get_resolver

from speakout.publishing.discussion import thread_for_report
from tests.discussion.helpers import add_reply
from tests.security.routes import routes

pytestmark = pytest.mark.django_db

# Every parameter a view of ours reads from the query string.
PARAMETERS = (
    "after domain folder held hold key lang limit nested_limit next offset origin p page parent "
    "plain q replies replies_page replyto resource sent sort status uri url"
).split()
HOSTILE = ["-1", "99999999999999999999999", "1.5", "abc", "<script>x</script>", "%ff", "x" * 5000]


@pytest.fixture(params=[False, True], ids=["guest", "signed-in"])
def addresses(request, client, django_user_model, site_builder) -> list[str]:
    """Every public address of ours and of allauth's (but allauth's few written as regular
    expressions), its ids those of a real reply and thread, for a guest or its signed-in writer."""
    report = site_builder.report("A report")
    thread = thread_for_report(report)
    writer = django_user_model.objects.create_user("robin", "robin@example.org", "a long passphrase 42")
    reply = add_reply(thread, "A reply of their own.", name="Robin", user=writer)
    add_reply(thread, "An answer.", name="Sam", parent=reply)
    if request.param:
        client.force_login(writer)
    found = {report.url, site_builder.home.url}
    for route, pattern in routes(get_resolver().url_patterns):
        view = getattr(pattern.callback, "view_class", pattern.callback)
        if route.startswith(("admin/", "<language>/", "media/")) or "(?P<" in route:
            continue
        if view.__module__.startswith(("speakout.", "allauth.")):
            address = "/" + route
            for converter, value in (("<int:", str(reply.pk)), ("<str:", thread.key), ("<", "x")):
                while converter in address:
                    start = address.index(converter)
                    address = address[:start] + value + address[address.index(">", start) + 1 :]
            found.add(address)
    assert len(found) > 80  # the routes were found
    return sorted(found)


def test_an_empty_post_never_answers_a_server_error(client, addresses):
    failures = []
    for address in addresses:
        for content_type in ("application/x-www-form-urlencoded", "application/json"):
            response = client.post(address, data="", content_type=content_type)
            if response.status_code >= 500:
                failures.append(f"{address} ({content_type}): {response.status_code}")
    assert not failures


def test_hostile_query_strings_never_answer_a_server_error(client, addresses):
    failures = []
    for address in addresses:
        for value in HOSTILE:
            query = urlencode(dict.fromkeys(PARAMETERS, value)).replace("%25ff", "%ff")
            # The Isso API and the embed's need a page's address to reach their other parameters.
            for separator in ("?", "?uri=/&") if address.startswith(("/isso/", "/embed/")) else ("?",):
                response = client.get(f"{address}{separator}{query}")
                if response.status_code >= 500:
                    failures.append(f"{address} with {value[:20]!r}: {response.status_code}")
    assert not failures
