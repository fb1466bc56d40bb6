"""Nothing of a report the public may not see leaks through any public channel, and no commenter
address or client hash appears in any public response.

Hidden reports: a draft, one unpublished after it was live, one behind a password and one for
signed-in users only, each with replies carrying a unique marker. Then, as an anonymous reader,
every public channel is fetched: pages, search, sitemap, every feed, the JSON API (threads,
single replies, counts) and reply permalinks."""

from __future__ import annotations

import json
import re
import time

import pytest
from django.core.cache import cache
from wagtail.models import PageViewRestriction

from speakout.discussion.forms import issue_form_token
from speakout.discussion.models import Commenter, DiscussionSettings, Reply, Thread
from speakout.discussion.services import Author, submit_reply
from speakout.publishing.discussion import thread_for_report

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(site_builder, settings):
    settings.SPEAKOUT_DISCUSSION_SECONDS_BETWEEN_REPLIES = 0
    cache.clear()
    rules = DiscussionSettings.load()
    rules.hold_first_reply = False
    rules.save()

    public = site_builder.report("Open report", tags=["housing"])
    draft = site_builder.report("Draft report", live=False)
    unpublished = site_builder.report("Withdrawn report")
    password = site_builder.report("Password report")
    members = site_builder.report("Members report")
    hidden = {"draft": draft, "unpublished": unpublished, "password": password, "members": members}

    replies = {}
    for name, report in {"public": public, **hidden}.items():
        thread = thread_for_report(report)
        result = submit_reply(
            thread=thread,
            data={
                "thread": thread.key,
                "name": f"Author {name}",
                "email": f"secret-{name}@example.org",
                "body": f"Marker-{name}-reply",
                "form_token": issue_form_token(thread.key, issued_at=time.time() - 10),
            },
            author=Author(client_hash=f"{name}clienthash".ljust(64, "0"), guest_token=f"token-{name}"),
            checks=[],
            check_form_token=False,
        )
        assert result.ok
        replies[name] = result.reply

    unpublished.unpublish()
    PageViewRestriction.objects.create(page=password, restriction_type=PageViewRestriction.PASSWORD, password="pw")
    PageViewRestriction.objects.create(page=members, restriction_type=PageViewRestriction.LOGIN)
    cache.clear()
    return public, hidden, replies


def public_urls(public, hidden, replies) -> list[str]:
    urls = ["/", "/reports/", public.url, "/sitemap.xml", "/robots.txt"]
    # Searches for words of the hidden reports (not the markers: the results page repeats the query).
    urls += [f"/search/?q={report.title.split()[0]}" for report in hidden.values()] + ["/search/?q=report"]
    for flavour in ("rss", "atom"):
        urls += [f"/reports/feed/{flavour}/", f"/reports/tag/housing/feed/{flavour}/", f"/discussion/feed/{flavour}/"]
        urls += [f"/discussion/thread/{report.thread_key}/feed/{flavour}/" for report in [public, *hidden.values()]]
    for report in [public, *hidden.values()]:
        urls.append(f"/api/threads/{report.thread_key}")
        urls.append(f"/api/threads/{report.thread_key}?view=flat")
    urls.append("/api/counts?" + "&".join(f"key={r.thread_key}" for r in [public, *hidden.values()]))
    for reply in replies.values():
        urls += [f"/discussion/reply/{reply.pk}/", f"/discussion/reply/{reply.pk}/report/"]
    urls += [report.url for report in hidden.values() if report.url]
    return urls


def test_hidden_reports_leak_nothing_and_no_address_or_hash_is_public(client, site):
    public, hidden, replies = site
    secrets = {f"Marker-{name}" for name in hidden}
    addresses = set(Commenter.objects.values_list("email", flat=True))
    hashes = {value for value in Reply.objects.values_list("client_hash", flat=True) if value}
    hashes |= {value for value in Reply.objects.values_list("guest_key", flat=True) if value}
    assert len(addresses) == 5 and len(hashes) == 10

    titles = {report.title for report in hidden.values()}
    own_urls = {report.url for report in hidden.values()}
    seen_public_marker = False
    for url in public_urls(public, hidden, replies):
        response = client.get(url, follow=False)
        assert response.status_code < 500, url
        body = response.content.decode(errors="replace")
        leaked = [secret for secret in secrets if secret in body]
        if url not in own_urls:
            leaked += [title for title in titles if title in body]
        assert not leaked, f"{url} shows {leaked}"
        assert not [address for address in addresses if address in body], f"{url} shows a commenter's address"
        assert not [value for value in hashes if value in body], f"{url} shows a client hash or guest key"
        seen_public_marker |= "Marker-public" in body
        if url.startswith("/api/") and response.status_code == 200:
            json.loads(body)  # well-formed, whatever it says
    assert seen_public_marker, "the public reply is visible somewhere (the scan looked at real pages)"

    # Reply actions on hidden replies answer 404, not a form.
    for name in hidden:
        assert client.get(f"/discussion/reply/{replies[name].pk}/").status_code == 404
        assert client.get(f"/discussion/reply/{replies[name].pk}/report/").status_code == 404


def _without_tokens(page: bytes) -> bytes:
    """A page without its per-response CSRF token (masked differently on every render)."""
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]*"', b"", page)


def test_posting_to_or_editing_in_a_hidden_thread_answers_as_if_it_did_not_exist(client, site):
    """A refusal page must not name a draft or restricted report ("Back to “Draft title”"), and
    the edit and delete pages of a reply that is not the reader's must not show where it is:
    every such request answers exactly what an unknown thread or reply id answers."""
    public, hidden, replies = site
    titles = {report.title for report in hidden.values()}
    addresses = {report.full_url for report in hidden.values()} | {f"/{report.slug}/" for report in hidden.values()}
    trashed = Reply.objects.create(thread=replies["public"].thread, body="Trashed", status=Reply.Status.TRASH)
    held = Reply.objects.create(thread=replies["public"].thread, body="Held", status=Reply.Status.PENDING)
    unknown = "/discussion/post/"
    missing = client.post(unknown, {"thread": "no-such-thread", "body": "x"})
    assert missing.status_code == 404
    for name, report in hidden.items():
        answer = client.post(unknown, {"thread": report.thread_key, "name": "A", "email": "a@example.org", "body": "x"})
        assert answer.status_code == 404, name
        assert _without_tokens(answer.content) == _without_tokens(missing.content), name
    missing_reply = max(Reply.objects.values_list("pk", flat=True)) + 1000
    for action in ("edit", "delete"):
        others = [*replies.values(), trashed, held]
        for method in ("get", "post"):
            nothing = getattr(client, method)(f"/discussion/reply/{missing_reply}/{action}/", {"body": "mine now"})
            assert nothing.status_code == 404
            for reply in others:
                answer = getattr(client, method)(f"/discussion/reply/{reply.pk}/{action}/", {"body": "mine now"})
                body = answer.content.decode()
                assert answer.status_code == 404, (action, reply.pk, method)
                expected = nothing.content.replace(str(missing_reply).encode(), str(reply.pk).encode())
                assert _without_tokens(answer.content) == _without_tokens(expected)
                assert not [text for text in titles | addresses if text and text in body]
    assert Reply.objects.filter(body="mine now").count() == 0


def test_a_reply_of_a_thread_whose_replies_are_hidden_has_no_permalink(client, site):
    """A thread set to "no replies shown" shows none of them anywhere: its replies' permalinks
    answer as an unknown id does, not with a redirect that says the reply is there, published."""
    public, _hidden, replies = site
    thread = thread_for_report(public)
    thread.status = Thread.Status.HIDDEN
    thread.save()
    assert client.get(f"/discussion/reply/{replies['public'].pk}/").status_code == 404
