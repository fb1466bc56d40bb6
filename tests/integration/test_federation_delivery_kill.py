"""A delivery survives its worker being killed mid-send (kill -9 while the peer has the request
and has not answered): it is sent again once its claim is stale, and once it is taken nothing
sends it again. Runs against the shared test server's database, from processes of its own."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.integration.server import SpeakoutServer

pytestmark = [pytest.mark.server, pytest.mark.xdist_group("server")]


class SlowInbox(BaseHTTPRequestHandler):
    """Holds the first POST without answering (the worker is killed meanwhile); takes the rest."""

    received: list[dict] = []
    release = threading.Event()

    def do_POST(self):  # noqa: N802  (http.server's name)
        length = int(self.headers.get("Content-Length", "0"))
        SlowInbox.received.append(json.loads(self.rfile.read(length)))
        if len(SlowInbox.received) == 1:
            SlowInbox.release.wait(timeout=30)
            return  # the connection closes with no answer
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def slow_inbox():
    SlowInbox.received, SlowInbox.release = [], threading.Event()
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowInbox)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/inbox"
    SlowInbox.release.set()
    server.shutdown()
    server.server_close()


def shell_process(server: SpeakoutServer, script: str) -> subprocess.Popen:
    """`speakout manage shell -c SCRIPT` as a worker of its own, allowed to reach loopback."""
    env = {**server.env, "SPEAKOUT_FETCH_ALLOWED_NETWORKS": "127.0.0.0/8"}
    return subprocess.Popen(
        [sys.executable, "-m", "speakout.cli", "manage", "shell", "-c", script],
        env=env,
        cwd=server.data_dir.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def test_a_delivery_whose_worker_is_killed_mid_send_is_sent_again_once(speakout_server, slow_inbox):
    activity_id = f"http://testserver/federation/activities/kill-{uuid.uuid4().hex[:8]}"
    # A Delivery row made directly (queue() would wake the server's own worker), then sent (only
    # while federation is on).
    first = shell_process(
        speakout_server,
        "from speakout.federation import delivery; from speakout.federation.models import Delivery, FederationSettings;"
        "config = FederationSettings.load(); config.enabled = True; config.save();"
        f"Delivery.objects.create(activity_id={activity_id!r}, inbox={slow_inbox!r},"
        f" payload={{'id': {activity_id!r}, 'type': 'Create'}});"
        "delivery.deliver_due()",
    )
    try:
        deadline = time.monotonic() + 60
        while not SlowInbox.received and time.monotonic() < deadline:
            assert first.poll() is None, first.communicate()
            time.sleep(0.05)
        assert SlowInbox.received, "the delivery never reached the peer"
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    SlowInbox.release.set()

    # The claim of the killed worker: left alone while it is fresh, taken once it is stale (the
    # clock moved on past the claim timeout), then the delivery is sent and never again.
    again = shell_process(
        speakout_server,
        "from datetime import timedelta; from django.utils import timezone;"
        "from speakout.federation import delivery; from speakout.federation.app_settings import app_settings;"
        "from speakout.federation.models import Delivery;"
        f"row = Delivery.objects.get(activity_id={activity_id!r});"
        "assert row.status == Delivery.Status.SENDING, row.status;"
        "fresh = delivery.deliver_due(); assert Delivery.objects.get(pk=row.pk).status == 'sending', fresh;"
        "stale = timezone.now() - timedelta(seconds=app_settings.CLAIM_TIMEOUT_SECONDS + 1);"
        "Delivery.objects.filter(pk=row.pk).update(claimed_at=stale);"
        "delivery.deliver_due(); delivery.deliver_due();"
        "row.refresh_from_db(); print(row.status, row.attempts)",
    )
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err[-3000:]
    assert out.split()[-2:] == ["sent", "1"]
    assert [item["id"] for item in SlowInbox.received] == [activity_id, activity_id]
