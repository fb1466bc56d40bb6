"""WordPress.com's subscriber list (CSV) in and out: confirmed subscribers come in confirmed and
unmailed, unconfirmed ones stay out unless confirmations are asked for, an address that
unsubscribed here stays unsubscribed, a second run changes nothing, and the export reads back."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from speakout.cli import INTERCHANGE_COMMANDS
from speakout.outbox.models import OutgoingMail
from speakout.subscriptions import services
from speakout.subscriptions.models import Subscription

pytestmark = pytest.mark.django_db

# The shape of WordPress.com's download: the dashboard's columns, a byte-order mark, mixed case,
# each status the dashboard shows, a blank line and a bad address.
WPCOM_CSV = (
    "\ufeffEmail,Since,Email subscription,Subscription type\r\n"
    "Ana@Example.org,2021-03-04 10:11:12,Subscribed,Free\r\n"
    "ben@example.org,2022-01-02,Not confirmed,Free\r\n"
    "cy@example.org,2020-05-06 07:08:09,Not subscribed,Free\r\n"
    "dee@example.org,2019-01-01 00:00:00,Not sending,Free\r\n"
    "\r\n"
    "not-an-address,2019-01-01,Subscribed,Free\r\n"
    "eve@example.org,2023-07-08T09:10:11Z,Subscribed,Paid\r\n"
)


@pytest.fixture
def export_file(tmp_path):
    path = tmp_path / "subscribers.csv"
    path.write_text(WPCOM_CSV, encoding="utf-8")
    return path


def run(*args) -> str:
    out = io.StringIO()
    call_command("speakout_import_subscribers", *args, stdout=out)
    return out.getvalue()


def test_confirmed_subscribers_come_in_without_mail(export_file):
    output = run(str(export_file))

    active = {s.email: s for s in services.active(Subscription.objects.filter(kind="posts"))}
    assert set(active) == {"ana@example.org", "eve@example.org"}
    assert active["ana@example.org"].confirmed_at == datetime(2021, 3, 4, 10, 11, 12, tzinfo=UTC)
    assert not Subscription.objects.filter(email="ben@example.org").exists(), "unconfirmed stays out"
    assert not OutgoingMail.objects.exists(), "nobody is mailed"
    assert "subscribed (confirmed, no mail sent): 2" in output
    assert "not confirmed, left out: 1" in output
    assert "left out (receives no mail there): 2" in output
    assert "line 7: not a valid email address" in output


def test_a_second_run_changes_nothing(export_file):
    run(str(export_file))
    before = list(Subscription.objects.values_list("pk", "email", "confirmed_at", "unsubscribed_at"))

    output = run(str(export_file))

    assert list(Subscription.objects.values_list("pk", "email", "confirmed_at", "unsubscribed_at")) == before
    assert "already subscribed: 2" in output


def test_an_address_that_unsubscribed_here_stays_out(export_file):
    run(str(export_file))
    services.unsubscribe(Subscription.objects.get(email="ana@example.org"))

    output = run(str(export_file))

    assert not services.active().filter(email="ana@example.org").exists()
    assert "unsubscribed here, left out: 1" in output


def test_unconfirmed_get_one_confirmation_when_asked(export_file):
    run(str(export_file), "--send-confirmations")
    run(str(export_file), "--send-confirmations")

    ben = Subscription.objects.get(email="ben@example.org")
    assert ben.confirmed_at is None
    assert OutgoingMail.objects.filter(to="ben@example.org").count() == 1, "one confirmation, not two"
    assert not OutgoingMail.objects.exclude(to="ben@example.org").exists()


def test_dry_run_and_a_file_that_is_not_a_list(export_file, tmp_path):
    assert "Dry run" in run(str(export_file), "--dry-run")
    assert not Subscription.objects.exists()
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("name,when\nAna,2020-01-01\n", encoding="utf-8")
    with pytest.raises(CommandError, match="no email column"):
        run(str(wrong))


def test_export_reads_back_the_same(export_file, tmp_path):
    assert INTERCHANGE_COMMANDS["import-subscribers"] == "speakout_import_subscribers"
    assert INTERCHANGE_COMMANDS["export-subscribers"] == "speakout_export_subscribers"
    run(str(export_file))
    out = tmp_path / "out.csv"
    call_command("speakout_export_subscribers", output=str(out), stderr=io.StringIO())
    text = out.read_text(encoding="utf-8")
    assert text.splitlines()[0] == "Email,Since,Email subscription"
    assert "ana@example.org,2021-03-04T10:11:12+00:00,Subscribed" in text

    before = {(s.email, s.confirmed_at) for s in services.active()}
    Subscription.objects.all().delete()
    run(str(out))
    assert {(s.email, s.confirmed_at) for s in services.active()} == before
