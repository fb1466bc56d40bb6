"""Interchange benchmark: import a generated WXR file with 2,000 posts and 100,000 threaded
replies, then export it again, each in its own `speakout` process as an operator would run it.

Targets (issue 6): import < 60 s with a peak resident memory < 300 MB; export < 30 s.
Run with `make bench`; results go to docs/benchmarks.md.
"""

from __future__ import annotations

import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POSTS = int(os.environ.get("SPEAKOUT_BENCH_POSTS", "2000"))
REPLIES_PER_POST = int(os.environ.get("SPEAKOUT_BENCH_REPLIES_PER_POST", "50"))


def generate(path: Path, posts: int = POSTS, per_post: int = REPLIES_PER_POST) -> int:
    """Write a WXR 1.2 file; replies nest up to a few levels and ids are shuffled within a post,
    so many children have a lower id than their parent. Returns the number of replies."""
    rng = random.Random(6)
    statuses = ["1"] * 90 + ["0"] * 5 + ["spam"] * 3 + ["trash"] * 2
    total = 0
    with open(path, "w", encoding="utf-8") as out:
        out.write(
            '<?xml version="1.0" encoding="UTF-8" ?>\n<rss version="2.0" '
            'xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">\n'
            "<channel><title>Benchmark collective</title><link>https://bench.example.org</link>\n"
            "<wp:wxr_version>1.2</wp:wxr_version>\n"
            "<wp:base_blog_url>https://bench.example.org</wp:base_blog_url>\n"
            "<wp:author><wp:author_login>editor</wp:author_login>"
            "<wp:author_display_name>The editor</wp:author_display_name></wp:author>\n"
            "<wp:category><wp:category_nicename>housing</wp:category_nicename>"
            "<wp:cat_name>Housing</wp:cat_name></wp:category>\n"
        )
        comment_id = 1
        for post in range(1, posts + 1):
            day = f"2020-{1 + post % 12:02d}-{1 + post % 28:02d}"
            out.write(
                f"<item><title>Report number {post}</title>"
                f"<link>https://bench.example.org/{day.replace('-', '/')}/report-{post}/</link>"
                "<dc:creator>editor</dc:creator>"
                f"<content:encoded><![CDATA[<!-- wp:paragraph -->First paragraph of report {post} with "
                '<strong>bold</strong> and a <a href="https://example.org/">link</a>.\n\n'
                "Second paragraph.\n<!-- /wp:paragraph -->\n<h2>A heading</h2>\nClosing words.]]>"
                "</content:encoded>"
                f"<wp:post_id>{post}</wp:post_id><wp:post_date_gmt>{day} 10:00:00</wp:post_date_gmt>"
                f"<wp:post_name>report-{post}</wp:post_name><wp:status>publish</wp:status>"
                "<wp:post_type>post</wp:post_type>"
                '<category domain="category" nicename="housing"><![CDATA[Housing]]></category>\n'
            )
            ids = list(range(comment_id, comment_id + per_post))
            rng.shuffle(ids)
            comment_id += per_post
            for number, own in enumerate(ids):
                parent = 0 if number % 3 == 0 or number == 0 else ids[rng.randrange(number)]
                kind = "pingback" if number == per_post - 1 else "comment"
                out.write(
                    f"<wp:comment><wp:comment_id>{own}</wp:comment_id>"
                    f"<wp:comment_author>Reader {own % 5000}</wp:comment_author>"
                    f"<wp:comment_author_email>reader{own % 5000}@example.org</wp:comment_author_email>"
                    f"<wp:comment_date_gmt>{day} 12:{number % 60:02d}:00</wp:comment_date_gmt>"
                    f"<wp:comment_content><![CDATA[Reply {own} to report {post}.\n\nA second line "
                    "with <em>emphasis</em>.]]></wp:comment_content>"
                    f"<wp:comment_approved>{rng.choice(statuses)}</wp:comment_approved>"
                    f"<wp:comment_type>{kind}</wp:comment_type>"
                    f"<wp:comment_parent>{parent}</wp:comment_parent></wp:comment>\n"
                )
                total += 1
            out.write("</item>\n")
        out.write("</channel></rss>\n")
    return total


def run(command: list[str], env: dict) -> tuple[float, float, float]:
    """Run a `speakout` command; return (seconds, peak resident memory in MB, CPU seconds) of
    that process. CPU time (user + system) says more than wall time on a shared machine."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed")
    return seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def main() -> int:
    scratch = Path(tempfile.mkdtemp(prefix="speakout-bench-interchange-"))
    env = {**os.environ, "SPEAKOUT_DATA_DIR": str(scratch / "data")}
    speakout = [sys.executable, "-m", "speakout.cli"]
    subprocess.run([*speakout, "setup", "--no-demo"], env=env, cwd=ROOT, check=True, capture_output=True)
    source = scratch / "bench.xml"
    replies = generate(source)
    size = source.stat().st_size / 1e6
    load_before = os.getloadavg()[0]
    import_seconds, import_rss, import_cpu = run([*speakout, "import", str(source), "--quiet"], env)
    again_seconds, _rss, again_cpu = run([*speakout, "import", str(source), "--quiet"], env)
    export_seconds, export_rss, export_cpu = run(
        [*speakout, "export", "--format", "wxr", "-o", str(scratch / "out.xml")], env
    )
    json_seconds, _rss, json_cpu = run([*speakout, "export", "--format", "json", "-o", str(scratch / "out.json")], env)
    database = "PostgreSQL" if env.get("DATABASE_URL", "").startswith("postgres") else "SQLite (WAL)"
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    lines = [
        f"## Interchange, {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC (issue 6)",
        "",
        f"Machine: {os.cpu_count()} cores, {cpu}; Python {platform.python_version()}; {database}; "
        f"commit {commit or 'unknown'}; load average {load_before:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end.",
        f"Method: `bench/interchange.py` generates a WXR 1.2 file ({size:.0f} MB) with {POSTS:,} posts and "
        f"{replies:,} replies (threaded a few levels deep, ids shuffled so many children have a lower id "
        "than their parent, 90% approved, some pending, spam, trash and pingbacks), then runs "
        "`speakout import FILE --quiet`, the same import again (idempotent: nothing changes), "
        "`speakout export --format wxr` and `--format json`, each as a separate process on a fresh "
        "data folder; time is wall-clock for the whole process (start-up included), CPU is the "
        "process's user and system time, memory is its peak resident set (`wait4` rusage). Search "
        "indexing of the new pages is queued for the worker, not timed.",
        "",
        "| What | Target | Wall time | CPU time | Peak memory |",
        "|---|---|---|---|---|",
        f"| Import, {POSTS:,} posts and {replies:,} replies | < 60 s, < 300 MB | {import_seconds:.1f} s "
        f"| {import_cpu:.1f} s | {import_rss:.0f} MB |",
        f"| Same import again (nothing to change) | — | {again_seconds:.1f} s | {again_cpu:.1f} s | — |",
        f"| Export WXR | < 30 s | {export_seconds:.1f} s | {export_cpu:.1f} s | {export_rss:.0f} MB |",
        f"| Export JSON (everything) | — | {json_seconds:.1f} s | {json_cpu:.1f} s | — |",
        "",
    ]
    print("\n".join(lines))
    out = os.environ.get("SPEAKOUT_BENCH_OUT")
    if out:
        Path(out).write_text("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
