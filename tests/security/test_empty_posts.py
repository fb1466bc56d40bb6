"""A POST with nothing in it, to any address of ours or of allauth's, answers with an error the
person can read (4xx, or the form again), never a server error."""

from __future__ import annotations

import pytest
from django.urls import get_resolver

from speakout.publishing.discussion import thread_for_report
from tests.discussion.helpers import add_reply
from tests.security.routes import routes

pytestmark = pytest.mark.django_db


def _addresses(values: dict[str, str]) -> list[str]:
    found = []
    for route, pattern in routes(get_resolver().url_patterns):
        view = getattr(pattern.callback, "view_class", pattern.callback)
        if route.startswith(("admin/", "<language>/", "media/")) or "(?P<" in route:
            continue
        if view.__module__.startswith(("speakout.", "allauth.")):
            address = "/" + route.replace("^", "").replace("$", "")
            for converter, value in (("<int:", values["int"]), ("<str:", values["str"]), ("<slug:", "x"), ("<", "x")):
                while converter in address:
                    start = address.index(converter)
                    address = address[:start] + value + address[address.index(">", start) + 1 :]
            found.append(address)
    return sorted(set(found))


@pytest.mark.parametrize("signed_in", [False, True], ids=["guest", "signed-in"])
def test_an_empty_post_never_answers_a_server_error(client, django_user_model, site_builder, signed_in):
    report = site_builder.report("A report")
    thread = thread_for_report(report)
    writer = django_user_model.objects.create_user("robin", "robin@example.org", "a long passphrase 42")
    reply = add_reply(thread, "A reply of their own.", name="Robin", user=writer)
    if signed_in:
        client.force_login(writer)
    addresses = [*_addresses({"int": str(reply.pk), "str": thread.key}), report.url, site_builder.home.url]
    assert len(addresses) > 80
    failures = []
    for address in addresses:
        for content_type in ("application/x-www-form-urlencoded", "application/json"):
            response = client.post(address, data="", content_type=content_type)
            if response.status_code >= 500:
                failures.append(f"{address} ({content_type}): {response.status_code}")
    assert not failures
