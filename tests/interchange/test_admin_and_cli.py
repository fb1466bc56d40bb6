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


def test_media_export_uploaded_beside_the_file(admin_client, settings, tmp_path):
    """The Import screen takes WordPress.com's media export (.tar) with the export: the
    pictures become the site's own, and both uploads are gone when the run ends."""

    from speakout.interchange.storage import private_uploads
    from tests.interchange.helpers import export, images_in, media_tar

    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.SPEAKOUT_PRIVATE_DIR = str(tmp_path / "private")
    xml = SimpleUploadedFile("export.xml", export("https://old.example.org").encode(), content_type="text/xml")
    media = SimpleUploadedFile("media-export.tar", media_tar(), content_type="application/x-tar")

    response = admin_client.post(reverse("speakout_interchange:index"), {"file": xml, "media": media})

    assert response.status_code == 302
    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.DONE, run.error
    assert run.summary["counts"]["attachment.created"] == 2
    assert len(images_in(ReportPage.objects.get(title="Our report"))) == 2
    assert not run.file and not run.media_file
    folder = tmp_path / "private" / "imports"
    assert not folder.exists() or not any(folder.iterdir()), "the uploads are deleted"
    assert private_uploads().base_url is None


def test_media_upload_that_is_no_tar_is_refused(admin_client):
    xml = SimpleUploadedFile("export.xml", (FIXTURES / "edge-cases.xml").read_bytes(), content_type="text/xml")
    media = SimpleUploadedFile("media.tar", b"<html>not an archive</html>", content_type="application/x-tar")
    response = admin_client.post(reverse("speakout_interchange:index"), {"file": xml, "media": media})
    assert response.status_code == 400
    assert b"This is not a .tar archive" in response.content
    assert not ImportRun.objects.exists() and ReportPage.objects.count() == 0


SUBSCRIBERS_CSV = (
    "\ufeffEmail,Since,Email subscription,Subscription type\r\n"
    "ana@example.org,2021-03-04 10:11:12,Subscribed,Free\r\n"
    "ben@example.org,2022-01-02,Not confirmed,Free\r\n"
    "cy@example.org,2020-05-06 07:08:09,Not subscribed,Free\r\n"
)


def subscriber_upload(text: str = SUBSCRIBERS_CSV) -> SimpleUploadedFile:
    return SimpleUploadedFile("subscribers.csv", text.encode(), content_type="text/csv")


def test_subscriber_list_uploaded_on_the_import_screen(admin_client):
    """The admin's Import screen takes WordPress.com's subscriber CSV: confirmed addresses come
    in confirmed with nobody mailed, the rest stay out, the counts are shown, and a second
    upload changes nothing. The Export screen gives the same CSV back."""
    from speakout.outbox.models import OutgoingMail
    from speakout.subscriptions import services
    from speakout.subscriptions.models import Subscription

    page = admin_client.get(reverse("speakout_interchange:index")).content.decode()
    assert 'action="/admin/import/subscribers/"' in page and "Subscriber list (CSV)" in page

    response = admin_client.post(reverse("speakout_interchange:subscribers"), {"file": subscriber_upload()})

    html = response.content.decode()
    assert response.status_code == 200, html
    assert "subscribed (confirmed, no mail sent): 1" in html and "not confirmed, left out: 1" in html
    active = services.active(Subscription.objects.filter(kind="posts"))
    assert [s.email for s in active] == ["ana@example.org"]
    assert not OutgoingMail.objects.exists(), "nobody is mailed"

    again = admin_client.post(reverse("speakout_interchange:subscribers"), {"file": subscriber_upload()})
    assert "already subscribed: 1" in again.content.decode()
    assert Subscription.objects.count() == 1

    download = admin_client.get(reverse("speakout_interchange_export:download", args=["subscribers"]))
    text = b"".join(download.streaming_content).decode()
    assert download["Content-Disposition"].startswith('attachment; filename="speakout-subscribers-')
    assert text.splitlines()[0] == "Email,Since,Email subscription"
    assert text.splitlines()[1].startswith("ana@example.org,2021-03-04T10:11:12+00:00,Subscribed")


def test_subscriber_upload_can_send_confirmations(admin_client):
    from speakout.outbox.models import OutgoingMail

    response = admin_client.post(
        reverse("speakout_interchange:subscribers"), {"file": subscriber_upload(), "send_confirmations": "on"}
    )
    assert "sent a confirmation mail: 1" in response.content.decode()
    assert list(OutgoingMail.objects.values_list("to", flat=True)) == ["ben@example.org"]


def test_subscriber_upload_dry_run_and_bad_files(admin_client):
    from speakout.subscriptions.models import Subscription

    dry = admin_client.post(reverse("speakout_interchange:subscribers"), {"file": subscriber_upload(), "dry_run": "on"})
    assert "Dry run: nothing was changed" in dry.content.decode()
    assert not Subscription.objects.exists()

    bad = admin_client.post(reverse("speakout_interchange:subscribers"), {"file": subscriber_upload("Name\r\nAna\r\n")})
    assert bad.status_code == 400
    assert "names no email column" in bad.content.decode() and "Nothing was imported." in bad.content.decode()
    latin = SimpleUploadedFile("s.csv", "Email\r\njosé@exämple.org\r\n".encode("latin-1"), content_type="text/csv")
    refused = admin_client.post(reverse("speakout_interchange:subscribers"), {"file": latin})
    assert refused.status_code == 400 and "not UTF-8" in refused.content.decode()
    assert not Subscription.objects.exists()
