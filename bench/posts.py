"""Only the reply-post part of bench/web.py, for working on the write path (issue 7).

    .venv/bin/python bench/posts.py [--rounds 3] [--sqlite-only | --postgres-only] [--keep DIR]

Builds the data set (bench/dataset.py) for SQLite and, when it answers, PostgreSQL, starts the
production stack (granian, the worker, Redis) and runs ``post_replies`` as ``make bench`` does.
Prints the replies stored per second, the mails queued, the CPU time the server's processes
spent per reply (a figure the machine's other load disturbs less: the web processes, the worker
and, on PostgreSQL, the database's backends serving the stack), the share of the machine's CPU
left idle during the round and the load average before it.
``--keep DIR`` keeps (and on a later run reuses) the data folders there, which skips the build.
``SPEAKOUT_BENCH_PYTHON=.venv-bench/bin/python`` serves from the production install, as
``make bench`` does.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import web  # noqa: E402  (bench/web.py, beside this file)


def stack_for(name: str, folder: Path, database_url: str = "") -> tuple[web.Stack, dict, dict]:
    port = web.free_port()
    env = web.environment(folder / name, port, database_url)
    env["SPEAKOUT_BENCH_GROWTH"] = "0"
    info = folder / f"{name}.json"
    if info.exists():
        saved = json.loads(info.read_text())
        env["SPEAKOUT_SECRET_KEY"], env["SPEAKOUT_CACHE_PREFIX"] = saved["secret"], saved["prefix"]
        data = saved["data"]
    else:
        (folder / name).mkdir(parents=True, exist_ok=True)
        # The same collected static files: collecting (and compressing) them again takes minutes.
        if name != "sqlite" and (folder / "sqlite/static").exists() and not (folder / name / "static").exists():
            shutil.copytree(folder / "sqlite/static", folder / name / "static")
        print(f"Building the data set ({name})...", flush=True)
        data = web.build(env)
        info.write_text(
            json.dumps({"secret": env["SPEAKOUT_SECRET_KEY"], "prefix": env["SPEAKOUT_CACHE_PREFIX"], "data": data})
        )
    env["SPEAKOUT_BASE_URL"] = f"http://127.0.0.1:{port}"
    return web.Stack(env, port), env, data


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=web.POST_ROUNDS)
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--postgres-only", action="store_true")
    parser.add_argument("--keep", type=Path, help="keep the data folders here and reuse them")
    options = parser.parse_args()
    folder = options.keep or Path(tempfile.mkdtemp(prefix="speakout-bench-posts-"))
    folder.mkdir(parents=True, exist_ok=True)
    databases = []
    if not options.postgres_only:
        databases.append(("sqlite", ""))
    if not options.sqlite_only:
        name = f"speakout_bench_posts_{folder.name}".replace("-", "_")
        url = None
        if (folder / "postgres.json").exists():
            url = web.POSTGRES.rsplit("/", 1)[0] + "/" + name
        else:
            url = web.postgres_url(name)
        if url:
            databases.append(("postgres", url))
    try:
        for name, url in databases:
            stack, env, data = stack_for(name, folder, url)
            stack.start()
            try:
                base = f"http://127.0.0.1:{stack.port}"
                for round_number in range(options.rounds):
                    load = os.getloadavg()
                    database = url.rsplit("/", 1)[1] if url else ""
                    watch = web.CpuWatch(web.stack_sessions(stack), database)
                    result = web.post_replies(env, base, data, folder)
                    used, idle = watch.finish()
                    stored = max(1, result["stored"])
                    cpu = {kind: seconds * 1000 / stored for kind, seconds in used.items()}
                    print(
                        f"{name} round {round_number + 1}: {result['rate']:.0f} replies/s stored "
                        f"({result['stored']} stored, {result['mails']} mails, {result['failed']} failed; "
                        f"server CPU per reply {cpu['web']:.1f} ms web + {cpu['worker']:.1f} ms worker"
                        + (f" + {cpu['postgres']:.1f} ms postgres; " if database else "; ")
                        + f"CPU idle {idle:.0%}; load before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f})",
                        flush=True,
                    )
            finally:
                stack.stop()
    finally:
        if not options.keep:
            for _name, url in databases:
                if url:
                    web.drop_postgres(url.rsplit("/", 1)[1])
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
