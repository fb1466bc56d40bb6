"""Builds the benchmark's data set in a scratch data folder and measures what needs no web
server: database queries per request for each page, and server time for the growth series.
Run by bench/web.py (``make bench``) with the same environment as the server it then starts.

Prints one JSON object on the last line: the URLs, a signed-in reader's session cookie, a guest
header, the query counts and the growth timings.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GROWTH = (10, 100, 1000, 10000)


def setup() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "speakout.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.ALLOWED_HOSTS.append("testserver")
    call_command("migrate", verbosity=0)
    if settings.PRODUCTION and not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
        call_command("collectstatic", "--no-input", verbosity=0)
    call_command("speakout_sync_site", verbosity=0)
    call_command("speakout_load_demo", verbosity=0)


def add_replies(thread, count: int, *, threaded: bool = True) -> None:
    """Replies written the fast way (bulk, one render reused): the read path is measured here;
    the write path is measured through HTTP by bench/web.py."""
    from django.utils import timezone

    from speakout.discussion.models import Reply, path_segment
    from speakout.discussion.rendering import render_markdown

    html = render_markdown("A reply with *some* emphasis and a [link](https://example.org/).")
    previous: list[Reply] = []
    chooser = random.Random(count)  # the same threads on every run
    batch = 50
    for start in range(0, count, batch):
        rows = []
        for number in range(start, min(count, start + batch)):
            # A quarter start a conversation; the rest answer a reply of the batch before, spread
            # over all of it, so a conversation holds about four replies as in a real thread.
            # (Answering only the latest few replies made four conversations hold nearly all of
            # them, and the first page of a 10,000-reply thread hold 6,000.)
            parent = previous[chooser.randrange(len(previous))] if threaded and number % 4 and previous else None
            rows.append(
                Reply(
                    thread=thread, parent=parent, depth=(parent.depth + 1) if parent else 0,
                    author_name=f"Reader {number}", body="A reply.", body_html=html,
                    status=Reply.Status.APPROVED, created_at=timezone.now(),
                )
            )  # fmt: skip
        rows = Reply.objects.bulk_create(rows)
        for reply in rows:
            reply.path = (reply.parent.path if reply.parent else "") + path_segment(reply.pk)
        Reply.objects.bulk_update(rows, ["path"])
        previous = rows
    thread.refresh_approved_count()


def report_with_replies(title: str, count: int):
    from speakout.publishing.demo import load_demo_content  # noqa: F401  (demo loaded in setup)
    from speakout.publishing.discussion import thread_for_report
    from speakout.publishing.models import ReportIndexPage, ReportPage

    index = ReportIndexPage.objects.first()
    report = ReportPage(title=title, slug=title.lower().replace(" ", "-"), standfirst="Benchmark report.")
    report.body = ReportPage.objects.live().first().body
    index.add_child(instance=report)
    report.save_revision().publish()
    thread = thread_for_report(report)
    add_replies(thread, count)
    return report, thread


def server_times(client, url: str, repeat: int, **headers) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(url, headers=headers)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return samples


def queries(client, url: str, **headers) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, headers=headers).status_code == 200
    return len(captured)


def main() -> int:
    setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.test import Client
    from django.utils import timezone

    from speakout.discussion.clients import guest_key, sign_guest_token
    from speakout.discussion.models import DiscussionSettings, Reply
    from speakout.subscriptions.models import Subscription

    rules = DiscussionSettings.load()
    rules.hold_first_reply = False
    rules.hold_link_count = 0
    rules.replies_per_page = 500  # the 200-reply page shows every reply; the growth series pages
    rules.save()
    report, thread = report_with_replies("Two hundred replies", 200)
    # Someone follows the thread, so every accepted reply queues a notification.
    Subscription.objects.create(
        email="follower@example.org", kind="thread", thread=thread, target=f"thread:{thread.pk}",
        confirmed_at=timezone.now(),
    )  # fmt: skip

    user = get_user_model().objects.create_user("reader", "reader@example.org", "bench-password")
    signed_in = Client()
    signed_in.force_login(user)
    session = signed_in.cookies[settings.SESSION_COOKIE_NAME].value
    guest_header = sign_guest_token("bench-guest")
    # Readers with a reply of their own in the thread get their reply list rendered for them
    # (the others share the cached one): one signed-in writer and one guest, each owning the
    # thread's last reply, so the thread still holds 200 replies.
    writer = get_user_model().objects.create_user("writer", "writer@example.org", "bench-password")
    writing = Client()
    writing.force_login(writer)
    writer_session = writing.cookies[settings.SESSION_COOKIE_NAME].value
    writer_guest_header = sign_guest_token("bench-guest-writer")
    last = Reply.objects.filter(thread=thread).order_by("-pk").first()
    Reply.objects.filter(pk=last.pk).update(user=writer, guest_key=guest_key("bench-guest-writer"))
    thread.bump_version()

    anonymous = Client()
    api = f"/api/threads/{thread.key}"
    counts = {
        "Report page, anonymous, first request (stored)": queries(anonymous, report.url),
        "Report page, anonymous, cached": queries(anonymous, report.url),
        "Report page, signed-in reader": queries(signed_in, report.url),
        "Report page, signed-in reader with a reply of their own": queries(writing, report.url),
        "Thread JSON, anonymous, first request (stored)": queries(anonymous, api),
        "Thread JSON, anonymous, again (never stored)": queries(anonymous, api),
        "Thread JSON, with a guest token (uncached)": queries(anonymous, api, x_speakout_guest=guest_header),
        "Thread JSON, guest with a reply of their own": queries(anonymous, api, x_speakout_guest=writer_guest_header),
        "Home page, anonymous, first request": queries(Client(), "/"),
    }

    growth = []
    rules.replies_per_page = 50
    rules.save()
    for size in GROWTH if os.environ.get("SPEAKOUT_BENCH_GROWTH", "1") == "1" else ():
        grown, grown_thread = report_with_replies(f"Growth {size}", size)
        # The writer owns a reply on the first page, so their page renders its reply list.
        first_root = Reply.objects.filter(thread=grown_thread, depth=0).order_by("path").first()
        Reply.objects.filter(pk=first_root.pk).update(user=writer)
        grown_thread.bump_version()
        cache.clear()
        server_times(writing, grown.url, 5)  # warm up
        samples = server_times(writing, grown.url, 15 if size < 10000 else 10)
        growth.append(
            {"replies": size, "median_ms": statistics.median(samples), "max_ms": max(samples),
             "queries": queries(writing, grown.url)}
        )  # fmt: skip
    rules.replies_per_page = 500
    rules.save()
    cache.clear()
    print(
        json.dumps(
            {
                "report_url": report.url,
                "thread_key": thread.key,
                "api_url": api,
                "session_cookie": settings.SESSION_COOKIE_NAME,
                "session": session,
                "guest_header": guest_header,
                "writer_session": writer_session,
                "writer_guest_header": writer_guest_header,
                "queries": counts,
                "growth": growth,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
