"""The admin's Import screen and the `speakout` command's interchange entries."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from speakout.cli import main
from speakout.interchange.html import convert_body
from speakout.interchange.models import ImportRun
from speakout.publishing.models import ReportPage
from tests.interchange.helpers import FIXTURES, TESTDATA


@pytest.fixture
def admin_client(client, site):
    user = get_user_model().objects.create_superuser("boss", "boss@example.org", "pw-long-enough-1")
    client.force_login(user)
    return client


def test_upload_runs_the_import_and_shows_the_result(admin_client, settings, tmp_path):
    """Uploading a file queues the import task (run at once in tests) and its page shows the
    result; a broken file shows the error and imports nothing."""
    settings.MEDIA_ROOT = str(tmp_path)
    page = admin_client.get(reverse("speakout_interchange:index"))
    assert page.status_code == 200 and b"Start the import" in page.content
    upload = SimpleUploadedFile("edge.xml", (FIXTURES / "edge-cases.xml").read_bytes(), content_type="text/xml")
    response = admin_client.post(reverse("speakout_interchange:index"), {"file": upload, "format": ""})
    assert response.status_code == 302
    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.DONE, run.error
    assert run.summary["counts"]["report.created"] == 3
    shown = admin_client.get(response["Location"])
    assert b"report created: 3" in shown.content and b"Skipped" in shown.content
    assert ReportPage.objects.count() == 3
    bad = SimpleUploadedFile(
        "bad.xml", (TESTDATA / "wordpress-importer" / "malformed-simple.xml").read_bytes(), content_type="text/xml"
    )
    response = admin_client.post(reverse("speakout_interchange:index"), {"file": bad, "dry_run": "on"})
    failed = ImportRun.objects.order_by("-pk").first()
    assert failed.status == ImportRun.Status.FAILED and "line 14" in failed.error
    assert b"line 14" in admin_client.get(response["Location"]).content
    assert ReportPage.objects.count() == 3


def test_form_requires_a_file(admin_client):
    response = admin_client.post(reverse("speakout_interchange:index"), {})
    assert response.status_code == 400 and b"This field is required" in response.content


def test_editors_without_permission_are_refused(client, site):
    user = get_user_model().objects.create_user("ed", "ed@example.org", "pw-long-enough-1", is_staff=True)
    from django.contrib.auth.models import Permission

    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(user)
    assert client.get(reverse("speakout_interchange:index")).status_code in (302, 403)


def test_speakout_command_entries(site_builder_transactional, tmp_path, capsys):
    """`speakout import` and `speakout export` reach the management commands. (They close the
    database connections when done, as Django's commands do, hence a transactional test.)"""
    assert main(["import", str(FIXTURES / "edge-cases.xml"), "--quiet"]) == 0
    assert ReportPage.objects.count() == 3
    out = tmp_path / "site.xml"
    assert main(["export", "--format", "wxr", "--output", str(out), "-v", "0"]) == 0
    assert "<wp:wxr_version>1.2</wp:wxr_version>" in out.read_text(encoding="utf-8")


def test_body_conversion_keeps_only_allowed_markup():
    """Scripts, styles, attributes and unknown tags go; links keep their address only."""
    blocks = convert_body(
        '<p onclick="x()">Hi <script>alert(1)</script><span style="color:red">there</span> '
        '<a href="javascript:alert(1)">bad</a> <a href="https://ok.example" target="_blank">ok</a></p>'
        "<h5>Small heading</h5><pre>a &lt; b\nc</pre><table><tr><td>1</td><td>2</td></tr></table>"
    )
    assert blocks[0] == {"type": "paragraph", "value": '<p>Hi there <a>bad</a> <a href="https://ok.example">ok</a></p>'}
    assert blocks[1] == {"type": "heading", "value": {"text": "Small heading", "level": "h3"}}
    assert blocks[2]["value"] == "<p>a &lt; b<br>c</p>"
    assert blocks[3]["value"] == "<p>1 · 2</p>"
