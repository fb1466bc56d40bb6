"""Discussion benchmarks: server time to render a report page with 200 replies (uncached), and to
accept a reply post, measured in-process with Django's test client (no network, no web server),
so the figures are the server's own time. Run with `make bench`; results go to
docs/benchmarks.md.

Targets (issue 3): page with 200 replies under 25 ms; a reply post under 10 ms on SQLite.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def configure() -> None:
    os.environ.setdefault("SPEAKOUT_DATA_DIR", tempfile.mkdtemp(prefix="speakout-bench-"))
    # Production's task queue: a post queues its notifications for the worker, whose job is not
    # part of the post (the immediate backend ran it inside every post, half of its time).
    os.environ.setdefault("SPEAKOUT_TASK_BACKEND", "django_tasks_db.DatabaseBackend")
    os.environ["SPEAKOUT_DISCUSSION_SECONDS_BETWEEN_REPLIES"] = "0"
    os.environ["SPEAKOUT_DISCUSSION_BURST_COUNT"] = "0"
    os.environ["SPEAKOUT_DISCUSSION_MIN_SECONDS_TO_SUBMIT"] = "0"
    os.environ["DJANGO_SETTINGS_MODULE"] = "speakout.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS.append("testserver")
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build_thread(replies: int):
    from speakout.discussion.services import Author, submit_reply
    from speakout.publishing.demo import load_demo_content
    from speakout.publishing.discussion import thread_for_report
    from speakout.publishing.models import ReportPage

    load_demo_content()
    report = ReportPage.objects.get(slug="evictions-after-licensing-rules")
    thread = thread_for_report(report)
    parents = []
    for number in range(replies):
        parent = parents[number // 3] if number % 4 and parents else None
        result = submit_reply(
            thread=thread,
            data={
                "thread": thread.key,
                "name": f"Reader {number}",
                "email": f"reader{number}@example.org",
                "body": f"Reply number {number} with *some* emphasis and a [link](https://example.org/{number}).",
                "parent": parent.pk if parent else "",
            },
            author=Author(client_hash=f"bench-{number}"),
            checks=[],
            check_form_token=False,
        )
        parents.append(result.reply)
    return report, thread


def timed(function, repeat: int) -> tuple[list[float], list[float]]:
    """Wall time and CPU time of each call, in ms. On a loaded machine the wall time mostly
    measures the wait for a core; the CPU time is the server's own work."""
    samples, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        function()
        samples.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return samples, cpu


def summary(timings: tuple[list[float], list[float]]) -> str:
    samples, cpu = sorted(timings[0]), timings[1]
    p95 = samples[int(len(samples) * 0.95) - 1]
    return (
        f"median {statistics.median(samples):.1f} ms, p95 {p95:.1f} ms, n={len(samples)}; "
        f"CPU median {statistics.median(cpu):.1f} ms"
    )


def main() -> int:
    configure()
    from django.test import Client

    from speakout.discussion.forms import issue_form_token
    from speakout.discussion.models import DiscussionSettings, Reply

    rules = DiscussionSettings.load()
    rules.hold_first_reply = False
    rules.hold_link_count = 0
    rules.replies_per_page = 500
    rules.save()
    report, thread = build_thread(200)
    client = Client()
    url = report.url
    assert client.get(url).status_code == 200
    # An anonymous reader: the page is rendered (no page cache), the reply list comes from the
    # cache keyed by the thread's version.
    timed(lambda: client.get(url), 30)  # warm up: imports, template loading, connections
    page = timed(lambda: client.get(url), 200)
    # A reader with a guest token (they have posted before): nothing of the thread is cached.
    from speakout.discussion.app_settings import GUEST_COOKIE_NAME as GUEST_COOKIE
    from speakout.discussion.clients import sign_guest_token

    guest = Client()
    guest.cookies[GUEST_COOKIE] = sign_guest_token("bench-guest")
    timed(lambda: guest.get(url), 30)
    guest_page = timed(lambda: guest.get(url), 200)

    counter = iter(range(10**9))

    def post():
        number = next(counter)
        response = client.post(
            "/discussion/post/",
            {
                "thread": thread.key,
                "name": "Bench",
                "email": f"bench{number}@example.org",
                "body": f"Benchmark reply {number}, with **Markdown**.",
                "form_token": issue_form_token(thread.key, issued_at=time.time() - 10),
            },
        )
        assert response.status_code == 303, response.status_code

    posts = timed(post, 300)
    approved = Reply.objects.filter(thread=thread, status="approved").count()
    database = "PostgreSQL" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "SQLite (WAL)"
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    lines = [
        "## Discussion (issue 3)",
        "",
        f"Machine: {os.cpu_count()} cores, {cpu}; Python {platform.python_version()}; {database}.",
        "Method: `bench/discussion.py` builds the demo site, adds 200 threaded replies to one report "
        "through `submit_reply`, then times requests in-process with Django's test client (server "
        "time only: no network, no web server, no page cache), after 30 warm-up requests; wall time and "
        "the process's CPU time (on a loaded machine the wall time is mostly the wait for a core). A "
        "post queues its notifications for the worker, as in production. Rate limits "
        "and the time trap are switched off by environment so every post is accepted. The article "
        "and the menu come from fragments cached by revision and content version for every reader.",
        "",
        "| What | Target | Result |",
        "|---|---|---|",
        "| Report page with 200 replies, anonymous reader (no page cache; reply list cached "
        f"by thread version) | < 25 ms | {summary(page)} |",
        "| Same page for a returning guest (nothing cached: replies read and rendered) "
        f"| < 25 ms | {summary(guest_page)} |",
        f"| Reply post (validate, pipeline, render, store, redirect) | < 10 ms | {summary(posts)} |",
        "",
        f"Replies stored after the run: {approved} approved (200 built + 300 posted).",
        "",
    ]
    print("\n".join(lines))
    out = os.environ.get("SPEAKOUT_BENCH_OUT")
    if out:
        Path(out).write_text("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
