"""Evidence holds (speakout/safety/evidence.py and the admin's Evidence screen): one POST takes a
reply off every public channel and seals it; the bundle verifies, tampering is caught, the purge
keeps held evidence, and holding and releasing are logged with who and when."""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile
from datetime import timedelta

import feedparser
import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from speakout.discussion.forms import issue_form_token
from speakout.discussion.models import Flag, ModerationLogEntry, Reply
from speakout.discussion.services import Author, edit_reply, flag_reply, submit_reply
from speakout.embed.models import AllowedOrigin
from speakout.privacy.purge import purge_expired
from speakout.privacy.services import Owner, forget
from speakout.publishing.discussion import thread_for_report
from speakout.safety import evidence
from speakout.safety.models import EvidenceHold
from tests.discussion.helpers import form_data

pytestmark = pytest.mark.django_db

THREAT = "I know where you live and I will come for you."
SITE = "https://blog.example.org"


def make_moderator(django_user_model, username, *perms):
    user = django_user_model.objects.create_user(username=username, password="pw", is_staff=True)
    for perm in ("wagtailadmin.access_admin", "speakout_discussion.change_reply", *perms):
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return user


def post(thread, body=THREAT, email="menace@example.org", client_hash="hash-of-menace"):
    result = submit_reply(
        thread=thread,
        data=form_data(thread, body=body, name="Menace", email=email),
        author=Author(client_hash=client_hash, guest_token=uuid.uuid4().hex),
        checks=[],
    )
    assert result.ok, result.errors
    return result.reply


def hold_through_admin(client, reply, reason="Threat to a named resident"):
    next_url = reverse("speakout_moderation:queue", args=["approved"])
    response = client.post(
        reverse("speakout_moderation:evidence_hold"), {"hold": str(reply.pk), "reason": reason, "next": next_url}
    )
    assert response.status_code == 302 and response["Location"] == next_url
    return EvidenceHold.objects.get(reply=reply, released_at__isnull=True)


def bundle_bytes(client, hold) -> bytes:
    response = client.get(reverse("speakout_moderation:evidence_bundle", args=[hold.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    return response.content


def rezip(data: bytes, **replace: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            target.writestr(name, replace.get(name.replace(".", "_"), source.read(name)))
    return out.getvalue()


def test_one_post_takes_the_reply_off_the_page_api_feeds_and_embed(admin_client, site_builder, rules):
    """After the hold the reply is nowhere public: report page, JSON API, site and thread
    feeds, the widget's API; the neighbouring reply stays."""
    report = site_builder.report("Housing report")
    thread = thread_for_report(report)
    threat = post(thread)
    kept = post(thread, body="A calm and useful reply.", email="calm@example.org", client_hash="calm")
    AllowedOrigin.objects.create(origin=SITE)
    embed = Client(HTTP_ORIGIN=SITE)
    embed_response = embed.post(
        "/embed/api/replies?key=/posts/one/",
        json.dumps(
            {
                "name": "Menace",
                "email": "menace@example.org",
                "body": "Embedded threat to you.",
                "form_token": issue_form_token("/posts/one/", issued_at=time.time() - 10),
                "url": f"{SITE}/posts/one/",
                "title": "A blog post",
            }
        ),
        content_type="application/json",
    )
    assert embed_response.status_code == 201, embed_response.content
    public = Client()
    assert THREAT in public.get(report.url).content.decode()
    assert any(
        THREAT in entry.summary for entry in feedparser.parse(public.get("/discussion/feed/rss/").content).entries
    )

    hold = hold_through_admin(admin_client, threat)

    page = public.get(report.url).content.decode()
    assert THREAT not in page and "A calm and useful reply." in page
    api = public.get(f"/api/threads/{thread.key}").json()
    assert [reply["id"] for reply in api["replies"]] == [kept.pk]
    for feed in ("/discussion/feed/rss/", f"/discussion/thread/{thread.key}/feed/atom/"):
        assert not any(THREAT in entry.summary for entry in feedparser.parse(public.get(feed).content).entries)
    assert public.get(f"/discussion/reply/{threat.pk}/").status_code == 404
    threat.refresh_from_db()
    assert threat.status == Reply.Status.TRASH and hold.is_active

    # The widget's own reply, held the same way.
    embedded = Reply.objects.get(body="Embedded threat to you.")
    assert embed.get("/embed/api/thread?key=/posts/one/").json()["thread"]["count"] == 1
    hold_through_admin(admin_client, embedded)
    listed = embed.get("/embed/api/thread?key=/posts/one/").json()
    assert listed["replies"] == [] and listed["thread"]["count"] == 0


def test_the_hold_is_logged_with_who_when_and_the_hash(admin_client, admin_user, thread, rules):
    threat = post(thread)
    before = timezone.now()
    hold = hold_through_admin(admin_client, threat, reason="Threat")

    entry = ModerationLogEntry.objects.get(reply=threat, action="evidence_hold")
    assert entry.actor == admin_user and entry.created_at >= before
    assert hold.content_sha256 in entry.reason and entry.reason.startswith("Threat")
    assert hold.held_by == admin_user
    log_html = admin_client.get(reverse("speakout_moderation:log")).content.decode()
    assert "Held as evidence" in log_html


def test_the_sealed_content_has_the_metadata_and_hashes_to_its_digest(admin_client, thread, rules):
    threat = post(thread)
    Flag.objects.create(reply=threat, reason=Flag.Reason.HARASSMENT, note="This is a threat")
    hold = hold_through_admin(admin_client, threat, reason="Threat")

    content = json.loads(hold.content)
    assert content["reply"]["text"] == THREAT and content["reply"]["id"] == threat.pk
    assert content["reply"]["status_before_hold"] == "approved"
    assert content["reply"]["created_at"].endswith("Z") and content["reply"]["client_hash"] == "hash-of-menace"
    assert content["author"]["email"] == "menace@example.org"
    assert content["thread"]["key"] == thread.key
    assert content["reports"][0]["reason"] == "harassment" and content["reports"][0]["details"] == "This is a threat"
    assert content["held"]["by"]["username"] == "admin" and content["held"]["reason"] == "Threat"
    assert evidence.sha256(hold.content.encode()) == hold.content_sha256
    assert evidence.canonical(content) == hold.content.encode(), "the stored content is canonical JSON"


def test_the_bundle_carries_the_reported_text_of_a_reply_edited_since(admin_client, thread, rules):
    """Reported, then rewritten by its author, then held: the sealed reply is the new text, and
    the report made before the edit carries what it was about; one made after it does not
    repeat the text it saw, which is the reply's."""
    threat = post(thread)
    flag_reply(threat, Flag.Reason.HARASSMENT, note="This is a threat", client_hash="first-reader")
    assert edit_reply(threat, "Sorry, I take that back.", None, owner_confirmed=True).ok
    flag_reply(Reply.objects.get(pk=threat.pk), Flag.Reason.OTHER, note="Edited?", client_hash="second-reader")
    hold = hold_through_admin(admin_client, threat, reason="Threat")

    with zipfile.ZipFile(io.BytesIO(bundle_bytes(admin_client, hold))) as bundle:
        content = json.loads(bundle.read("evidence.json"))
    assert content["reply"]["text"] == "Sorry, I take that back."
    before, after = content["reports"]
    assert before["details"] == "This is a threat" and before["reported_text"] == THREAT
    assert after["details"] == "Edited?" and "reported_text" not in after
    assert evidence.verify_bundle(bundle_bytes(admin_client, hold)).ok


def test_the_exported_bundle_verifies_on_its_own_and_against_the_site(admin_client, thread, rules, tmp_path):
    hold = hold_through_admin(admin_client, post(thread))
    data = bundle_bytes(admin_client, hold)

    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        assert set(bundle.namelist()) == {"evidence.json", "seal.json", "SHA256SUMS", "README.txt"}
        content = bundle.read("evidence.json")
        sums = bundle.read("SHA256SUMS").decode()
        seal = json.loads(bundle.read("seal.json"))
        readme = bundle.read("README.txt").decode()
    assert sums == f"{evidence.sha256(content)}  evidence.json\n", "the sha256sum -c format"
    assert seal["content_sha256"] == hold.content_sha256 == evidence.sha256(content)
    assert seal["seal_sha256"] == hold.seal_sha256
    assert "sha256sum -c SHA256SUMS" in readme and "&quot;" not in readme

    result = evidence.verify_bundle(data)
    assert result.ok, result.problems
    assert result.hold == hold

    path = tmp_path / "bundle.zip"
    path.write_bytes(data)
    call_command("safety_verify_evidence", str(path))  # exits 0

    upload = io.BytesIO(data)
    upload.name = "bundle.zip"
    checked = admin_client.post(reverse("speakout_moderation:evidence"), {"bundle": upload})
    assert 'data-bundle="ok"' in checked.content.decode()


def test_tampering_with_a_bundle_is_detected(admin_client, thread, rules, tmp_path):
    hold = hold_through_admin(admin_client, post(thread))
    data = bundle_bytes(admin_client, hold)
    content = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("evidence.json"))
    content["reply"]["text"] = "I hope you have a nice day."
    forged = evidence.canonical(content)

    only_content = rezip(data, evidence_json=forged)
    problems = evidence.verify_bundle(only_content).problems
    assert any("evidence.json was changed" in problem for problem in problems)

    # A careful forger also fixes SHA256SUMS and the seal: the site's records still catch it.
    seal = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("seal.json"))
    seal["content_sha256"] = evidence.sha256(forged)
    seal["seal_sha256"] = evidence.seal_of(seal["content_sha256"], seal["previous_seal"], seal["sealed_at"])
    everything = rezip(
        data,
        evidence_json=forged,
        seal_json=json.dumps(seal).encode(),
        SHA256SUMS=f"{seal['content_sha256']}  evidence.json\n".encode(),
    )
    result = evidence.verify_bundle(everything)
    assert not result.ok
    assert any("no record of this seal" in problem for problem in result.problems)

    path = tmp_path / "forged.zip"
    path.write_bytes(only_content)
    with pytest.raises(CommandError):
        call_command("safety_verify_evidence", str(path))

    upload = io.BytesIO(everything)
    upload.name = "forged.zip"
    html = admin_client.post(reverse("speakout_moderation:evidence"), {"bundle": upload}).content.decode()
    assert 'data-bundle="broken"' in html

    not_a_zip = io.BytesIO(b"hello")
    not_a_zip.name = "hello.zip"
    html = admin_client.post(reverse("speakout_moderation:evidence"), {"bundle": not_a_zip}).content.decode()
    assert "This is not an evidence bundle" in html


def test_changing_a_stored_hold_breaks_the_chain(admin_client, thread, rules):
    """Editing the stored content, or deleting a hold, is caught by re-checking the chain (the
    admin screen and the command both do)."""
    first = hold_through_admin(admin_client, post(thread, body="First threat"))
    second = hold_through_admin(admin_client, post(thread, body="Second threat", email="b@example.org"))
    third = hold_through_admin(admin_client, post(thread, body="Third threat", email="c@example.org"))
    assert second.previous_seal == first.seal_sha256 and third.previous_seal == second.seal_sha256
    assert evidence.verify_chain().ok
    assert 'data-chain="ok"' in admin_client.get(reverse("speakout_moderation:evidence")).content.decode()
    call_command("safety_verify_evidence")

    EvidenceHold.objects.filter(pk=first.pk).update(content=first.content.replace("First threat", "First hello"))
    assert any("sealed content was changed" in problem for problem in evidence.verify_chain().problems)
    EvidenceHold.objects.filter(pk=first.pk).update(content=first.content)
    EvidenceHold.objects.filter(pk=second.pk).delete()
    problems = evidence.verify_chain().problems
    assert any("chain is broken" in problem for problem in problems)
    assert 'data-chain="broken"' in admin_client.get(reverse("speakout_moderation:evidence")).content.decode()
    with pytest.raises(CommandError):
        call_command("safety_verify_evidence")


def test_held_evidence_is_off_the_queues_and_holding_twice_keeps_one_seal(admin_client, thread, rules):
    threat = post(thread)
    first = hold_through_admin(admin_client, threat)
    again = evidence.hold_reply(threat, actor=None)
    assert again == first and EvidenceHold.objects.count() == 1
    html = admin_client.get(reverse("speakout_moderation:queue", args=["trash"])).content.decode()
    assert f'value="{threat.pk}"' not in html, "no queue action can touch held evidence"
    evidence_html = admin_client.get(reverse("speakout_moderation:evidence")).content.decode()
    assert first.content_sha256 in evidence_html and "Menace" in evidence_html


def test_the_purge_skips_held_evidence_until_released(admin_client, thread, rules, settings):
    settings.SPEAKOUT_PRIVACY_RELEASED_EVIDENCE_DAYS = 30
    threat = post(thread, client_hash="threat-hash")
    other = post(thread, body="Old but harmless", email="o@example.org", client_hash="other-hash")
    Flag.objects.create(reply=threat, reason="harassment", client_hash="flagger")
    long_ago = timezone.now() - timedelta(days=400)
    Reply.objects.filter(pk__in=[threat.pk, other.pk]).update(created_at=long_ago)
    Flag.objects.filter(reply=threat).update(created_at=long_ago)
    hold = hold_through_admin(admin_client, threat)
    # The author asks to be forgotten: the held reply stays as sealed, and so does its commenter.
    forget(Owner.for_email("menace@example.org"))
    threat.refresh_from_db()
    assert threat.author_name == "Menace" and threat.commenter is not None

    purge_expired(now=timezone.now() + timedelta(days=60))

    threat.refresh_from_db()
    assert threat.client_hash == "threat-hash"
    assert Flag.objects.get(reply=threat).client_hash == "flagger"
    assert threat.commenter is not None and threat.commenter.email == "menace@example.org"
    assert Reply.objects.get(pk=other.pk).client_hash == "", "other replies are purged as usual"

    release = admin_client.post(
        reverse("speakout_moderation:evidence_release", args=[hold.pk]), {"reason": "Case closed"}
    )
    assert release.status_code == 302
    purge_expired(now=timezone.now() + timedelta(days=1))
    threat.refresh_from_db()
    assert threat.client_hash == "", "released: routine retention applies again"
    hold.refresh_from_db()
    assert hold.content, "the sealed copy outlives the release for the retention period"
    purge_expired(now=timezone.now() + timedelta(days=31))
    hold.refresh_from_db()
    assert hold.content == "" and hold.content_sha256, "then only the hashes remain"
    assert evidence.verify_chain().ok, "the chain still checks out"


def test_release_is_logged_and_needs_its_own_permission(client, django_user_model, thread, rules):
    threat = post(thread)
    holder = make_moderator(django_user_model, "holder", "speakout_safety.hold_evidence")
    releaser = make_moderator(
        django_user_model, "releaser", "speakout_safety.hold_evidence", "speakout_safety.release_evidence"
    )
    plain = make_moderator(django_user_model, "plain")

    client.force_login(plain)
    response = client.post(reverse("speakout_moderation:evidence_hold"), {"hold": str(threat.pk)})
    assert response.status_code == 302 and not EvidenceHold.objects.exists()
    assert (
        "Hold as evidence" not in client.get(reverse("speakout_moderation:queue", args=["approved"])).content.decode()
    )

    client.force_login(holder)
    assert "Hold as evidence" in client.get(reverse("speakout_moderation:queue", args=["approved"])).content.decode()
    hold = hold_through_admin(client, threat)
    client.post(reverse("speakout_moderation:evidence_release", args=[hold.pk]), {"reason": "no"})
    hold.refresh_from_db()
    assert hold.is_active, "holding does not allow releasing"

    client.force_login(releaser)
    client.post(reverse("speakout_moderation:evidence_release", args=[hold.pk]), {"reason": "Settled out of court"})
    hold.refresh_from_db()
    assert not hold.is_active and hold.released_by == releaser and hold.release_reason == "Settled out of court"
    entry = ModerationLogEntry.objects.get(action="evidence_release")
    assert entry.actor == releaser and entry.reply_id == threat.pk and "Settled out of court" in entry.reason
    threat.refresh_from_db()
    assert threat.status == Reply.Status.TRASH
    html = client.get(reverse("speakout_moderation:queue", args=["trash"])).content.decode()
    assert f'value="{threat.pk}"' in html, "released, it is back in the trash queue"
    log_html = client.get(reverse("speakout_moderation:log") + "?action=evidence_release").content.decode()
    assert "Released from evidence hold" in log_html and "Settled out of court" in log_html


def test_the_sealed_copy_survives_the_reply_being_deleted(admin_client, thread, rules):
    threat = post(thread)
    hold = hold_through_admin(admin_client, threat)
    Reply.objects.filter(pk=threat.pk).delete()
    hold.refresh_from_db()
    assert hold.reply is None and THREAT in hold.content
    assert evidence.verify_bundle(evidence.build_bundle(hold)).ok
