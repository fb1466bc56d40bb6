"""Resident memory of the web processes after a load like ``make bench``'s (issue 7's 150 MB target).

    SPEAKOUT_BENCH_PYTHON=.venv-bench/bin/python .venv/bin/python bench/memory.py [--keep DIR]
        [--seconds 3] [--rounds 1] [--libraries]

Builds the data set (bench/dataset.py, SQLite; ``--keep DIR`` keeps it and reuses it later: the
posts of each run stay in the thread, and a thread of 2,200 replies shows 500 on the report page
against 200, about 7 MB more a web process, so the thread's size is printed first),
starts the production stack as ``make bench`` does (granian, two web processes of two blocking
threads, the worker, Redis), then sends each of ``make bench``'s reads for ``--seconds`` with wrk
(the anonymous report page, plain and gzip, a signed-in reader, a signed-in writer, the thread
JSON anonymous, with a guest token and a guest writer) and ``--rounds`` rounds of reply posts,
and prints the resident and private memory of each process (``Stack.memory_mb``), and the web
processes' CPU per request of each read. ``--libraries`` also lists the shared libraries mapped
into the first web process with the resident KB of each.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import posts  # noqa: E402  (bench/posts.py, beside this file)
import web  # noqa: E402


def libraries(pid: int) -> list[tuple[str, int]]:
    """Resident KB of each file mapped into the process (/proc/PID/smaps), largest first."""
    sizes: Counter[str] = Counter()
    name = ""
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head = line.split()
        if not head:
            continue
        if "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
            name = head[5] if len(head) > 5 else "[anonymous]"
        elif head[0] == "Rss:":
            sizes[name] += int(head[1])
    return sizes.most_common()


def web_pids(stack: web.Stack) -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        pid = int(stat.parent.name)
        if int(fields[3]) == stack.processes[0].pid and pid != stack.processes[0].pid and b"granian" in cmdline:
            pids.append(pid)
    return sorted(pids)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keep", type=Path, help="keep the data folder here and reuse it")
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--libraries", action="store_true")
    options = parser.parse_args()
    folder = options.keep or Path(tempfile.mkdtemp(prefix="speakout-bench-memory-"))
    folder.mkdir(parents=True, exist_ok=True)
    stack, env, data = posts.stack_for("sqlite", folder)
    stack.start()
    try:
        base = f"http://127.0.0.1:{stack.port}"
        page, api = base + data["report_url"], base + data["api_url"]
        reads = {
            "report page, anonymous": (page, []),
            "report page, anonymous, gzip": (page, ["Accept-Encoding: gzip"]),
            "report page, signed-in reader": (page, [f"Cookie: {data['session_cookie']}={data['session']}"]),
            "report page, signed-in writer": (page, [f"Cookie: {data['session_cookie']}={data['writer_session']}"]),
            "thread JSON, anonymous": (api, []),
            "thread JSON, guest token": (api, [f"X-Speakout-Guest: {data['guest_header']}"]),
            "thread JSON, guest writer": (api, [f"X-Speakout-Guest: {data['writer_guest_header']}"]),
        }
        print(f"thread replies: {web.count_rows(env, data['thread_key'])[0]}", flush=True)
        print(f"after start: {stack.memory_mb()}", flush=True)
        for name, (url, headers) in reads.items():
            web.settle(base + "/robots.txt")
            before = stack.web_cpu_seconds()
            result = web.wrk(url, headers=headers, seconds=options.seconds)
            cpu = (stack.web_cpu_seconds() - before) * 1000 / max(1, result["total"])
            errors = f" ({result['errors']} non-2xx)" if result["errors"] else ""
            print(f"{name}: {result['rate']:.0f} req/s{errors}, web CPU {cpu:.3f} ms a request", flush=True)
        print(f"after reads: {stack.memory_mb()}", flush=True)
        for round_number in range(options.rounds):
            result = web.post_replies(env, base, data, folder)
            print(f"posts round {round_number + 1}: {result['rate']:.0f}/s, {result['stored']} stored", flush=True)
        memory = stack.memory_mb()
        print("after posts: " + ", ".join(f"{k} {' '.join(f'{v:.1f}' for v in vs)}" for k, vs in memory.items()))
        print(f"load average {os.getloadavg()[0]:.1f}")
        if options.libraries:
            pid = web_pids(stack)[0]
            for path, kb in libraries(pid):
                if kb >= 256:
                    print(f"{kb / 1024:7.1f} MB  {path}")
    finally:
        stack.stop()
        if not options.keep:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
