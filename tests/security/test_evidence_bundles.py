"""The Evidence screen: a hostile bundle sent to "Check a bundle" (a zip bomb, a zip of many
entries) is refused before anything is decompressed, and a moderator who may hold evidence but
not see commenters' addresses cannot read them through the bundle."""

from __future__ import annotations

import io
import tracemalloc
import uuid
import zipfile

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from speakout.discussion.models import Reply
from speakout.discussion.services import get_or_create_thread
from speakout.safety import evidence

pytestmark = pytest.mark.django_db

EMAIL = "hidden-commenter@example.org"


def _moderator(username: str, *perms: str):
    user = get_user_model().objects.create_user(username=username, password="pw", is_staff=True)
    for perm in ("wagtailadmin.access_admin", "speakout_discussion.change_reply", *perms):
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    client = Client()
    client.force_login(user)
    return client


def _held_reply():
    from speakout.discussion.models import Commenter

    thread = get_or_create_thread(f"evidence-{uuid.uuid4().hex[:6]}", url="http://testserver/r/", title="Report")
    commenter = Commenter.objects.create(email=EMAIL, display_name="Menace")
    reply = Reply.objects.create(
        thread=thread, commenter=commenter, author_name="Menace", body="A threat", body_html="<p>A threat</p>"
    )
    return reply


def _post_bundle(client, data: bytes):
    upload = io.BytesIO(data)
    upload.name = "bundle.zip"
    return client.post(reverse("speakout_moderation:evidence"), {"bundle": upload})


def _bomb(entries: dict[str, int]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for name, size in entries.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            with bundle.open(info, "w") as target:
                block = b"\0" * (1024 * 1024)
                for _ in range(size // len(block)):
                    target.write(block)
    return out.getvalue()


@pytest.fixture
def holder():
    return _moderator("holder", "speakout_safety.hold_evidence")


def test_a_zip_bomb_is_refused_before_it_is_decompressed(holder):
    bomb = _bomb({"evidence.json": 64 * 1024 * 1024, "seal.json": 1024 * 1024, "SHA256SUMS": 1024 * 1024})
    assert len(bomb) < 200 * 1024
    tracemalloc.start()
    try:
        response = _post_bundle(holder, bomb)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 200
    assert "too large to be an evidence bundle" in response.content.decode()
    assert peak < 16 * 1024 * 1024, f"checking a bomb took {peak // 1024 // 1024} MB"


def test_a_zip_of_many_entries_is_refused(holder):
    """A real bundle with thousands of extra entries: refused from the zip's directory record,
    before its entries are listed."""
    boss = get_user_model().objects.create_superuser("boss", "boss@example.org", "pw-long-enough-1")
    hold = evidence.hold_reply(_held_reply(), actor=boss, reason="Threat")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(evidence.build_bundle(hold))) as real, zipfile.ZipFile(out, "w") as bundle:
        for name in real.namelist():
            bundle.writestr(name, real.read(name))
        for number in range(5000):
            bundle.writestr(f"{number}.txt", b"")
    result = evidence.verify_bundle(out.getvalue())
    assert not result.ok and result.checked == 0
    response = _post_bundle(holder, out.getvalue())
    assert "This is not an evidence bundle" in response.content.decode()


def test_holding_evidence_does_not_show_commenters_addresses(holder):
    """The sealed copy holds the author's address and cannot be redacted without breaking its
    seal, so downloading it takes the permission to see addresses as well."""
    reply = _held_reply()
    boss = get_user_model().objects.create_superuser("boss", "boss@example.org", "pw-long-enough-1")
    hold = evidence.hold_reply(reply, actor=boss, reason="Threat")
    assert EMAIL in hold.content
    answers = [
        holder.get(reverse("speakout_moderation:evidence")),
        holder.get(reverse("speakout_moderation:evidence_bundle", args=[hold.pk])),
    ]
    for answer in answers:
        assert EMAIL.encode() not in answer.content
        with pytest.raises(zipfile.BadZipFile):
            zipfile.ZipFile(io.BytesIO(answer.content))
    assert answers[1].status_code in (302, 403)
    lawyer = _moderator("lawyer", "speakout_safety.hold_evidence", "speakout_discussion.view_commenter_email")
    bundle = lawyer.get(reverse("speakout_moderation:evidence_bundle", args=[hold.pk]))
    assert bundle.status_code == 200
    assert EMAIL in zipfile.ZipFile(io.BytesIO(bundle.content)).read("evidence.json").decode()
