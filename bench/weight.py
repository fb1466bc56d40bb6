"""Page weight alone (issue 7's weight target, checked again since the report lists show lead
images): the 200-reply report page, the home page and the reports list, from a production-mode
server, with every picture the lists show. Run by ``make bench`` (bench/run.sh), or alone:

    .venv/bin/python bench/weight.py

Writes a Markdown section to ``SPEAKOUT_BENCH_OUT`` (or prints it) and exits 1 if a target is
missed. Needs Redis, like the rest of the benchmark.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.web import PY, ROOT, Stack, clear_redis_prefix, environment, fetch, free_port, weights  # noqa: E402

# Issue 7, target 7: the 200-reply page under 250 KB of HTML and 40 KB gzipped, its JavaScript
# under 10 KB and CSS under 15 KB gzipped. The lists are held to the same page limits.
HTML_LIMIT, GZIP_LIMIT, JS_LIMIT, CSS_LIMIT = 250 * 1024, 40 * 1024, 10 * 1024, 15 * 1024


def build() -> None:
    """In the server's environment: the demo site and a report with 200 threaded replies."""
    from bench import dataset

    dataset.setup()
    from speakout.discussion.models import DiscussionSettings

    rules = DiscussionSettings.load()
    rules.replies_per_page = 500
    rules.save()
    report, _thread = dataset.report_with_replies("Two hundred replies", 200)
    print(json.dumps({"report_url": report.url}))


def list_weight(base: str, path: str) -> dict:
    html, _headers = fetch(base + path)
    text = html.decode()
    pictures = set(re.findall(r'<img[^>]+src="(/[^"]+)"', text))
    picture_bytes = sum(len(fetch(base + src)[0]) for src in pictures)
    return {
        "html": len(html),
        "gzip": len(gzip.compress(html)),
        "pictures": len(pictures),
        "picture_bytes": picture_bytes,
    }


def main() -> int:
    scratch = Path(tempfile.mkdtemp(prefix="speakout-bench-weight-"))
    port = free_port()
    env = environment(scratch / "data", port)
    (scratch / "data").mkdir()
    stack = Stack(env, port)
    try:
        out = subprocess.run(
            [PY, str(Path(__file__).resolve()), "--build"], env=env, cwd=ROOT, capture_output=True, text=True
        )
        if out.returncode:
            raise RuntimeError(out.stderr[-3000:])
        report_url = json.loads(out.stdout.strip().splitlines()[-1])["report_url"]
        stack.start()
        base = f"http://127.0.0.1:{port}"
        fetch(base + report_url)  # the first request stores the page; measure what readers get
        page = weights(base, report_url)
        lists = {path: list_weight(base, path) for path in ("/", "/reports/")}
    finally:
        stack.stop()
        clear_redis_prefix(env["SPEAKOUT_CACHE_PREFIX"])
        shutil.rmtree(scratch, ignore_errors=True)
    met = page["html"] < HTML_LIMIT and page["gzip"] < GZIP_LIMIT and page["js_gz"] < JS_LIMIT
    met = met and page["css_gz"] < CSS_LIMIT
    met = met and all(found["html"] < HTML_LIMIT and found["gzip"] < GZIP_LIMIT for found in lists.values())
    lines = [
        "### Page weight (bench/weight.py)",
        "",
        "| Page | HTML | gzipped | pictures shown | their bytes |",
        "|---|---|---|---|---|",
        f"| Report, 200 replies | {page['html'] / 1024:.0f} KB | {page['gzip'] / 1024:.1f} KB | | |",
    ]
    for path, found in lists.items():
        lines.append(
            f"| {'Home page' if path == '/' else 'Reports list'} | {found['html'] / 1024:.0f} KB | "
            f"{found['gzip'] / 1024:.1f} KB | {found['pictures']} | {found['picture_bytes'] / 1024:.0f} KB |"
        )
    lines += [
        "",
        f"JavaScript {page['js_gz'] / 1024:.1f} KB and CSS {page['css_gz'] / 1024:.1f} KB gzipped. Targets: under "
        f"250 KB of HTML and 40 KB gzipped a page, JavaScript under 10 KB and CSS under 15 KB gzipped: "
        f"**{'met' if met else 'not met'}**.",
    ]
    text = "\n".join(lines) + "\n"
    target = os.environ.get("SPEAKOUT_BENCH_OUT")
    if target:
        Path(target).write_text(text)
    print(text)
    return 0 if met else 1


if __name__ == "__main__":
    if sys.argv[1:] == ["--build"]:
        build()
    else:
        sys.exit(main())
