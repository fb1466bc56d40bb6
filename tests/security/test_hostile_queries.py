"""Query strings an attacker or a broken link might send (every parameter any view reads, with
numbers too large or negative, words where numbers go, lists, markup, very long text) never make
a page of ours or allauth's answer a server error."""

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


def _addresses(values: dict[str, str]) -> list[str]:
    found = []
    for route, pattern in routes(get_resolver().url_patterns):
        view = getattr(pattern.callback, "view_class", pattern.callback)
        if route.startswith(("admin/", "<language>/", "media/")) or "(?P<" in route:
            continue
        if view.__module__.startswith(("speakout.", "allauth.")):
            address = "/" + route
            for converter, value in (("<int:", values["int"]), ("<str:", values["str"]), ("<", "x")):
                while converter in address:
                    start = address.index(converter)
                    address = address[:start] + value + address[address.index(">", start) + 1 :]
            found.append(address)
    return sorted(set(found))


@pytest.mark.parametrize("signed_in", [False, True], ids=["guest", "signed-in"])
def test_hostile_query_strings_never_answer_a_server_error(client, django_user_model, site_builder, signed_in):
    report = site_builder.report("A report")
    thread = thread_for_report(report)
    writer = django_user_model.objects.create_user("robin", "robin@example.org", "a long passphrase 42")
    reply = add_reply(thread, "A reply of their own.", name="Robin", user=writer)
    add_reply(thread, "An answer.", name="Sam", parent=reply)
    if signed_in:
        client.force_login(writer)
    addresses = [*_addresses({"int": str(reply.pk), "str": thread.key}), report.url, site_builder.home.url, "/isso/"]
    assert len(addresses) > 80
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
