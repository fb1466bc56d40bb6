"""A real Fediverse server for the tests: Fedify (the framework Ghost's federation is built on),
run by Deno on loopback (tests/federation/peer.ts).

Deno comes from the npm registry (``npm install deno@2``) into a cache folder, as Chromium comes
from Debian: installed by the test set-up, never skipped; Fedify comes from npm through Deno's
own cache in the same folder. ``SPEAKOUT_TEST_CACHE`` moves the folder (default
``~/.cache/speakout-tests``). One peer serves a whole test session.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CACHE = Path(os.environ.get("SPEAKOUT_TEST_CACHE", Path.home() / ".cache" / "speakout-tests"))
DENO_PACKAGE = "deno@2"
START_TIMEOUT = 240.0  # the first start downloads Fedify; later ones take a second or two
HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def deno() -> Path:
    """The Deno binary, installed from npm into the cache folder when missing."""
    folder = CACHE / "deno"
    binary = folder / "node_modules" / ".bin" / "deno"
    if not binary.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("npm is missing: the Fediverse tests install Deno with it (apt-get install npm)")
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [npm, "install", "--prefix", str(folder), "--no-audit", "--no-fund", DENO_PACKAGE],
            check=True,
            capture_output=True,
            timeout=600,
        )
    return binary


@dataclass
class Peer:
    process: subprocess.Popen
    base_url: str
    log: list[str] = field(default_factory=list)

    @property
    def actor(self) -> str:
        return f"{self.base_url}/users/alice"

    @property
    def inbox(self) -> str:
        return f"{self.base_url}/users/alice/inbox"

    def _call(self, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.base_url}{path}", data=data, headers={"Content-Type": "application/json"}
        )
        try:
            with HTTP.open(request, timeout=60) as answer:
                return json.loads(answer.read())
        except urllib.error.HTTPError as error:
            return json.loads(error.read())

    def received(self) -> list[dict[str, Any]]:
        return self._call("/control/received")

    def send(self, activity: dict[str, Any], *, to_actor: str, inbox: str) -> dict[str, Any]:
        """Have the peer sign and send ``activity`` as its actor alice."""
        return self._call("/control/send", {"activity": activity, "actor": to_actor, "inbox": inbox})

    def set_down(self, down: bool) -> None:
        self._call("/control/down", {"down": down})

    def wait_for(self, predicate, timeout: float = 20.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for item in self.received():
                if predicate(item["activity"]):
                    return item
            time.sleep(0.2)
        raise AssertionError(f"the peer received nothing matching in {timeout:.0f} s: {self.received()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def start_peer() -> Peer:
    environment = {**os.environ, "DENO_DIR": str(CACHE / "deno-dir"), "NO_COLOR": "1"}
    process = subprocess.Popen(
        [str(deno()), "run", "--allow-net", "--allow-env", "--allow-read", "--allow-sys", str(HERE / "peer.ts")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=environment,
        text=True,
        cwd=HERE,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT
    lines: list[str] = []
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 1.0)
        if not ready:
            if process.poll() is not None:
                break
            continue
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip())
        if line.startswith("{"):
            port = json.loads(line)["port"]
            peer = Peer(process, f"http://127.0.0.1:{port}", lines)
            # Keep reading what it prints, so a full pipe never stops it.
            threading.Thread(target=_drain, args=(process, peer.log), daemon=True).start()
            return peer
    process.kill()
    raise RuntimeError("the Fedify peer did not start:\n" + "\n".join(lines[-40:]))


def _drain(process: subprocess.Popen, log: list[str]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        log.append(line.rstrip())
