"""Changes made outside the web process reach it on the next request, on the default install (no
Redis: each process's cache is its own, so the page cache's version counters live in files in the
data folder, shared by the web process, the worker and every command)."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.server import SpeakoutServer

pytestmark = [pytest.mark.server, pytest.mark.xdist_group("server")]


def shell(server: SpeakoutServer, script: str) -> str:
    result = server.command("manage", "shell", "-c", script)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_a_page_expired_by_the_scheduled_job_stops_being_served_at_once(speakout_server):
    assert "REDIS_URL" not in speakout_server.env
    slug = f"expiring-{uuid.uuid4().hex[:8]}"
    url = shell(
        speakout_server,
        "from wagtail.models import Site; from speakout.publishing.models import StandardPage;"
        "root = Site.objects.get(is_default_site=True).root_page;"
        f"page = root.add_child(instance=StandardPage(title='Until tonight', slug='{slug}', intro='Soon gone.'));"
        "page.save_revision().publish(); print(page.url)",
    )
    path = url if url.startswith("/") else "/" + url.split("/", 3)[3]
    speakout_server.get(path)
    status, headers, body = speakout_server.get(path)
    assert status == 200 and headers["X-Speakout-Cache"] == "hit" and b"Soon gone." in body

    # The expiry passes; the scheduled job (what the worker runs) unpublishes it in its own process.
    shell(
        speakout_server,
        "from datetime import timedelta; from django.utils import timezone;"
        "from speakout.publishing.models import StandardPage;"
        f"StandardPage.objects.filter(slug='{slug}').update(expire_at=timezone.now() - timedelta(minutes=1));"
        "print('ok')",
    )
    result = speakout_server.command("manage", "publish_scheduled")
    assert result.returncode == 0, result.stderr
    assert (
        shell(speakout_server, f"from wagtail.models import Page; print(Page.objects.get(slug='{slug}').live)")
        == "False"
    )
    status, headers, body = speakout_server.get(path)
    assert status == 404, (status, headers.get("X-Speakout-Cache"))
    assert b"Soon gone." not in body


def test_a_reply_moderated_by_a_command_is_gone_from_the_cached_page_at_once(speakout_server):
    path = "/reports/peer-safety-conference-lisbon/"
    text = f"Removed by a command ({uuid.uuid4().hex[:8]})."
    shell(
        speakout_server,
        "from speakout.discussion.models import Thread; from speakout.discussion import services;"
        "thread = Thread.objects.get(url__endswith='/reports/peer-safety-conference-lisbon/');"
        "data = {'thread': thread.key, 'name': 'Kit', 'email': 'kit@example.org',"
        f" 'body': {text!r}}};"
        "r = services.submit_reply(thread=thread, data=data,"
        " author=services.Author(client_hash='command'), checks=[]); print(r.outcome)",
    )
    speakout_server.get(path)
    status, headers, body = speakout_server.get(path)
    assert headers["X-Speakout-Cache"] == "hit" and text.encode() in body
    shell(
        speakout_server,
        "from speakout.discussion.models import Reply; from speakout.discussion import services;"
        f"services.set_status(Reply.objects.get(body={text!r}), Reply.Status.SPAM); print('ok')",
    )
    status, headers, body = speakout_server.get(path)
    assert status == 200 and text.encode() not in body
