"""Changes made outside the web processes reach every one of them on the next request: on the
default install (no Redis: each process's cache is its own, so the page cache's version counters
live in files in the data folder, shared by the web process, the worker and every command), and
with Redis and two web processes (the counters still in files with SQLite, in Redis with
PostgreSQL)."""

from __future__ import annotations

import os
import uuid

import pytest
import redis

from tests.helpers import word_marker
from tests.integration.server import SpeakoutServer, new_server

pytestmark = [pytest.mark.server, pytest.mark.xdist_group("server")]
REDIS_URL = os.environ.get("SPEAKOUT_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")


@pytest.fixture(scope="module")
def redis_server(speakout_server, tmp_path_factory):
    """`speakout run` with Redis and two web processes, on a copy of the shared server's data."""
    server = new_server(tmp_path_factory.mktemp("speakout-redis"), share_database_with=speakout_server)
    prefix = f"test-versions-{uuid.uuid4().hex}"
    server.env.update(REDIS_URL=REDIS_URL, SPEAKOUT_CACHE_PREFIX=prefix, SPEAKOUT_WEB_PROCESSES="2")
    try:
        server.start()
        yield server
    finally:
        server.stop()
        server.cleanup()
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


@pytest.fixture(params=["files", "redis"])
def server(request, speakout_server) -> SpeakoutServer:
    if request.param == "files":
        assert "REDIS_URL" not in speakout_server.env
        return speakout_server
    return request.getfixturevalue("redis_server")


def test_with_redis_the_versions_are_files_with_sqlite_and_redis_keys_with_postgresql(redis_server):
    """With SQLite every process is on one host and reaches the data folder, so the versions a
    hit reads are files there even with Redis; with PostgreSQL (several hosts) they stay in
    Redis. The tests below run on this server too: a command's bump and a web process's reach
    every web process on the next request, wherever the versions live."""
    import hashlib

    name = f"where-{uuid.uuid4().hex[:8]}"
    shell(redis_server, f"from speakout.pagecache import versions; versions.bump_now({name!r}); print('ok')")
    digest = hashlib.sha1(f"speakout:version:{name}".encode(), usedforsecurity=False).hexdigest()
    in_files = os.path.lexists(redis_server.data_dir / "cache" / "versions" / f"{digest}.link")
    in_redis = redis.Redis.from_url(REDIS_URL).exists(
        f"{redis_server.env['SPEAKOUT_CACHE_PREFIX']}:1:speakout:version:{name}"
    )
    assert (in_files, bool(in_redis)) == ((True, False) if redis_server.database_url is None else (False, True))


def every_process_gets(server: SpeakoutServer, path: str) -> list[tuple]:
    """Enough requests that each web process answers some (granian spreads them)."""
    return [server.get(path) for _ in range(6)]


def shell(server: SpeakoutServer, script: str) -> str:
    result = server.command("manage", "shell", "-c", script)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_a_page_expired_by_the_scheduled_job_stops_being_served_at_once(server):
    speakout_server = server
    slug = f"expiring-{uuid.uuid4().hex[:8]}"
    url = shell(
        speakout_server,
        "from wagtail.models import Site; from speakout.publishing.models import StandardPage;"
        "root = Site.objects.get(is_default_site=True).root_page;"
        f"page = root.add_child(instance=StandardPage(title='Until tonight', slug='{slug}', intro='Soon gone.'));"
        "page.save_revision().publish(); print(page.url)",
    )
    path = url if url.startswith("/") else "/" + url.split("/", 3)[3]
    answers = every_process_gets(speakout_server, path)
    assert all(status == 200 and b"Soon gone." in body for status, _headers, body in answers)
    assert answers[-1][1]["X-Speakout-Cache"] == "hit"

    # The expiry passes and the scheduled job (what the worker runs) unpublishes the page, in a
    # process of its own. Both in one transaction: on PostgreSQL this server shares its database
    # with the session's server, whose worker (no Redis: its versions are its own files) would
    # otherwise unpublish a page it sees expired first, and bump nothing this server reads.
    shell(
        speakout_server,
        "from datetime import timedelta; from django.core.management import call_command;"
        "from django.db import transaction; from django.utils import timezone;"
        "from speakout.publishing.models import StandardPage\n"
        "with transaction.atomic():"
        f" StandardPage.objects.filter(slug='{slug}').update(expire_at=timezone.now() - timedelta(minutes=1));"
        " call_command('publish_scheduled', verbosity=0)\n"
        "print('ok')",
    )
    assert (
        shell(speakout_server, f"from wagtail.models import Page; print(Page.objects.get(slug='{slug}').live)")
        == "False"
    )
    for status, headers, body in every_process_gets(speakout_server, path):
        assert status == 404, (status, headers.get("X-Speakout-Cache"))
        assert b"Soon gone." not in body


def test_a_reply_moderated_by_a_command_is_gone_from_the_cached_page_at_once(server):
    speakout_server = server
    path = "/reports/peer-safety-conference-lisbon/"
    text = f"Removed by a command ({word_marker()})."
    shell(
        speakout_server,
        "from speakout.discussion.models import Thread; from speakout.discussion import services;"
        "thread = Thread.objects.get(url__endswith='/reports/peer-safety-conference-lisbon/');"
        "data = {'thread': thread.key, 'name': 'Kit', 'email': 'kit@example.org',"
        f" 'body': {text!r}}};"
        "r = services.submit_reply(thread=thread, data=data,"
        " author=services.Author(client_hash='command'), checks=[]); print(r.outcome)",
    )
    answers = every_process_gets(speakout_server, path)
    assert all(text.encode() in body for _status, _headers, body in answers)
    assert answers[-1][1]["X-Speakout-Cache"] == "hit"
    shell(
        speakout_server,
        "from speakout.discussion.models import Reply; from speakout.discussion import services;"
        f"services.set_status(Reply.objects.get(body={text!r}), Reply.Status.SPAM); print('ok')",
    )
    for status, _headers, body in every_process_gets(speakout_server, path):
        assert status == 200 and text.encode() not in body


def signed_post(server: SpeakoutServer, key, key_id: str, activity: dict) -> int:
    """POST ``activity`` to the inbox as a remote server does: draft-cavage rsa-sha256 over
    (request-target), host, date and digest; no browser headers."""
    import base64
    import hashlib
    import json
    import urllib.error
    import urllib.request
    from email.utils import formatdate

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    from tests.integration.server import HTTP

    body = json.dumps(activity).encode()
    digest = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
    date = formatdate(usegmt=True)
    host = server.base_url.split("//", 1)[1]
    text = f"(request-target): post /federation/inbox\nhost: {host}\ndate: {date}\ndigest: {digest}"
    signature = base64.b64encode(key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()
    request = urllib.request.Request(
        server.url("/federation/inbox"),
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/activity+json",
            "Date": date,
            "Digest": digest,
            "Signature": f'keyId="{key_id}",algorithm="rsa-sha256",headers="(request-target) host date digest",'
            f'signature="{signature}"',
        },
    )
    try:
        with HTTP.open(request, timeout=20) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_a_remote_update_and_delete_of_a_fediverse_reply_reach_every_process_at_once(server):
    """An approved reply from the Fediverse on a cached page; its author edits it (a signed
    Update to the inbox, handled by whichever web process takes it), then deletes it (handled
    in a process of its own, as the worker would): every web process serves the changed page on
    the next request."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    speakout_server = server
    path = "/reports/peer-safety-conference-lisbon/"
    tag = word_marker()
    actor = f"https://remote.example/users/bob-{tag}"
    note = f"{actor}/notes/1"
    text, edited = f"Seen from Mastodon ({tag}).", f"Edited on Mastodon ({tag})."
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    # Federation on, the remote account kept as if fetched, and its reply approved on the report.
    shell(
        speakout_server,
        "from django.utils import timezone;"
        "from speakout.discussion import services; from speakout.discussion.models import Reply, Thread;"
        "from speakout.federation.models import FederatedReply, FederationSettings, RemoteActor;"
        "config = FederationSettings.load(); config.enabled = True; config.save();"
        f"actor = RemoteActor.objects.create(url={actor!r}, domain='remote.example', inbox={actor!r} + '/inbox',"
        f" username='bob', name='Bob Remote', profile_url={actor!r}, key_id={actor!r} + '#main-key',"
        f" public_key_pem={pem.decode()!r}, fetched_at=timezone.now());"
        "thread = Thread.objects.get(url__endswith='/reports/peer-safety-conference-lisbon/');"
        f"data = {{'thread': thread.key, 'name': 'Bob Remote', 'email': 'bob@example.org', 'body': {text!r}}};"
        "r = services.submit_reply(thread=thread, data=data,"
        " author=services.Author(client_hash='fediverse'), checks=[]);"
        "services.set_status(r.stored, Reply.Status.APPROVED);"
        f"FederatedReply.objects.create(reply=r.stored, object_id={note!r}, actor=actor); print('ok')",
    )
    answers = every_process_gets(speakout_server, path)
    assert all(text.encode() in body for _status, _headers, body in answers)
    assert answers[-1][1]["X-Speakout-Cache"] == "hit"

    public = {"to": "https://www.w3.org/ns/activitystreams#Public"}
    update = {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{note}#update", "type": "Update",
              "actor": actor, **public, "object": {"id": note, "type": "Note", "attributedTo": actor, **public,
              "content": f"<p>{edited}</p>"}}  # fmt: skip
    assert signed_post(speakout_server, key, actor + "#main-key", update) == 202
    for status, _headers, body in every_process_gets(speakout_server, path):
        assert status == 200 and edited.encode() in body and text.encode() not in body

    # The Delete handled in another process than the web ones (as the worker or a command would
    # handle an activity): the web processes learn of it through the shared versions only.
    shell(
        speakout_server,
        "from speakout.federation import inbox; from speakout.federation.models import FederationSettings, RemoteActor;"
        f"actor = RemoteActor.objects.get(url={actor!r});"
        f"activity = {{'id': {note!r} + '#delete', 'type': 'Delete', 'actor': {actor!r},"
        f" 'object': {{'id': {note!r}, 'type': 'Tombstone'}}}};"
        "print(inbox.HANDLERS['Delete'](FederationSettings.load(), actor, activity).status)",
    )
    for status, _headers, body in every_process_gets(speakout_server, path):
        assert status == 200 and edited.encode() not in body


def test_the_fediverse_box_follows_a_settings_change_made_by_a_command_in_every_process(server):
    """Each web process keeps whether members may send their replies to the Fediverse under the
    content version: a signed-in reader's form shows the change made in another process on the
    next request, in every web process."""
    import urllib.request

    from tests.integration.server import HTTP

    path = "/reports/peer-safety-conference-lisbon/"
    name = f"fedbox-{word_marker(8).lower()}"
    settings_script = (
        "from speakout.federation.models import FederationSettings;"
        "config = FederationSettings.load(); config.enabled = True; config.federate_member_replies = {on};"
        "config.save(); print('ok')"
    )
    shell(server, settings_script.format(on=True))
    session = shell(
        server,
        "from importlib import import_module; from allauth.account.models import EmailAddress;"
        "from django.conf import settings; from django.contrib import auth;"
        f"user = auth.get_user_model().objects.create_user({name!r}, {name + '@example.org'!r},"
        " 'a long enough password 42');"
        "EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True);"
        "store = import_module(settings.SESSION_ENGINE).SessionStore();"
        "store[auth.SESSION_KEY] = str(user.pk); store[auth.BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0];"
        "store[auth.HASH_SESSION_KEY] = user.get_session_auth_hash(); store.create(); print(store.session_key)",
    )
    label = b"Also post this reply to the Fediverse"

    def pages() -> list[bytes]:
        request = urllib.request.Request(server.url(path), headers={"Cookie": f"sessionid={session}"})
        answers = []
        for _ in range(6):  # enough that each web process answers some
            with HTTP.open(request, timeout=20) as response:
                answers.append(response.read())
        return answers

    try:
        assert all(label in page and name.encode() in page for page in pages())
        shell(server, settings_script.format(on=False))
        assert not any(label in page for page in pages())
    finally:
        shell(server, settings_script.format(on=False))
