"""Spreadsheet exports: no cell written from what a visitor typed is run as a formula, whatever
separator the spreadsheet splits on. Every CSV writer in the code is listed here, so a new one
fails until it is covered."""

from __future__ import annotations

import csv
import io
import re
import uuid
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from speakout.contact.models import ContactMessage, ContactPage

pytestmark = pytest.mark.django_db

PACKAGE = Path(__file__).resolve().parents[2] / "speakout"
# Modules that write CSV, each covered by a test below.
COVERED_WRITERS = {"contact/admin_views.py", "subscriptions/subscriber_csv.py"}
# Wagtail's own exports (its reports, redirects and any listing with ``list_export``) write CSV
# through SpreadsheetExportMixin, which Speakout guards once for them all.
WAGTAIL_EXPORTS = [
    "wagtailadmin_reports:site_history",
    "wagtailadmin_reports:aging_pages",
    "wagtailadmin_reports:locked_pages",
    "wagtailredirects:index",
]
TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
# What a spreadsheet might split a line on.
SEPARATORS = (",", ";", "\t", "|")
HOSTILE_CELLS = [
    "Sam;=1+1",
    "Sam;=cmd|' /C calc'!A0",
    "Sam\t=1+1",
    "Sam|=1+1",
    "Sam,=1+1",
    "Sam;@SUM(1)",
    "Sam;+1",
    "Sam;-1",
    '=HYPERLINK("http://x")',
    " =1+1",
    "Sam\n=1+1",
]


def test_every_csv_writer_is_covered():
    writers = set()
    for path in PACKAGE.rglob("*.py"):
        if re.search(r"csv\.(writer|DictWriter)\(|text/csv", path.read_text()):
            writers.add(str(path.relative_to(PACKAGE)))
    assert writers == COVERED_WRITERS


def _cells_under_every_separator(text: str) -> list[str]:
    cells = []
    for separator in SEPARATORS:
        for row in csv.reader(io.StringIO(text), delimiter=separator):
            cells += row
        # A spreadsheet that ignores quotes, too.
        for line in text.splitlines():
            cells += line.split(separator)
    return cells


def test_contact_export_runs_no_formula_under_any_separator(site_builder):
    page = site_builder.home.add_child(
        instance=ContactPage(title="Contact", slug=f"contact-{uuid.uuid4().hex[:6]}", recipients="team@org.example")
    )
    for value in HOSTILE_CELLS:
        ContactMessage.objects.create(page=page, name=value, email="eve@example.net", topic=value, message=value)
    admin = get_user_model().objects.create_superuser("exporter", "exporter@example.org", "pw-long-enough-1")
    client = Client()
    client.force_login(admin)
    text = client.get(reverse("speakout_contact:export") + "?folder=inbox").content.decode()
    for cell in _cells_under_every_separator(text):
        stripped = cell.strip(' "')
        assert not stripped.startswith(TRIGGERS), repr(cell)
    # Read with the separator it was written with, each value is all there (an apostrophe only
    # marks where a formula could have started).
    rows = list(csv.reader(io.StringIO(text)))
    names = sorted(row[1].replace("'", "") for row in rows[1:])
    assert names == sorted(value.replace("'", "") for value in HOSTILE_CELLS)


def test_subscriber_export_runs_no_formula_and_reads_back():
    """A valid address may start with "=", "+" or "-": exported as text, read back whole."""
    from speakout.subscriptions.models import Subscription
    from speakout.subscriptions.subscriber_csv import export_subscribers, import_subscribers

    hostile = ["=1+1@example.org", "+cmd@example.org", "-2@example.org"]
    for address in hostile:
        Subscription.objects.create(kind="posts", email=address, confirmed_at=timezone.now())
    out = io.StringIO()
    export_subscribers(out)
    text = out.getvalue()
    for cell in _cells_under_every_separator(text):
        assert not cell.strip(' "').startswith(TRIGGERS), repr(cell)
    Subscription.objects.all().delete()
    import_subscribers(text)
    assert sorted(Subscription.objects.values_list("email", flat=True)) == sorted(hostile)


def test_wagtail_exports_run_no_formula_under_any_separator(site_builder):
    """Wagtail's report and listing exports (site history, aging and locked pages, redirects)
    carry page titles and account names, which anyone with an account can choose: in CSV every
    cell is guarded as ours are, and in XLSX no cell is a formula."""
    from openpyxl import load_workbook
    from wagtail.contrib.redirects.models import Redirect

    admin = get_user_model().objects.create_superuser("exporter", "exporter@example.org", "pw-long-enough-1")
    writer = get_user_model().objects.create_user("+1+1", "w@example.org", "pw", first_name="=1+1", last_name="@SUM(1)")
    titles = [value.replace("\n", " ").replace("\r", " ") for value in HOSTILE_CELLS]
    for title in titles:
        page = site_builder.report(title)
        page.save_revision(user=writer, log_action=True).publish(user=writer, skip_permission_checks=True)
        page.refresh_from_db()
        page.locked, page.locked_by, page.locked_at = True, writer, timezone.now()
        page.save()
        Redirect.objects.create(old_path=f"/old-{uuid.uuid4().hex[:6]}", redirect_link=f"https://example.org/?{title}")
    client = Client()
    client.force_login(admin)
    for name in WAGTAIL_EXPORTS:
        response = client.get(reverse(name) + "?export=csv")
        assert response.status_code == 200, name
        text = b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()
        assert "+1+1" in text or "=1+1" in text or "example.org/?" in text, name
        for cell in _cells_under_every_separator(text):
            assert not cell.strip(' "').startswith(TRIGGERS), (name, cell)
        if name == "wagtailadmin_reports:aging_pages":
            # Read with the separator it was written with, each title is all there.
            cells = {cell.replace("'", "") for row in csv.reader(io.StringIO(text)) for cell in row}
            assert {title.replace("'", "") for title in titles} <= cells

        response = client.get(reverse(name) + "?export=xlsx")
        assert response.status_code == 200, name
        workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
        for row in workbook.active.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (name, cell.value)
