"""New-post notifications: once per report, on its first publication; digests when due."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from wagtail.models import PageViewRestriction

from speakout.outbox.models import OutgoingMail
from speakout.publishing.discussion import report_is_public
from speakout.subscriptions import jobs, services
from speakout.subscriptions.models import Announcement, Subscription
from speakout.subscriptions.wagtail import is_public
from tests.subscriptions.helpers import mails_to

pytestmark = pytest.mark.django_db


def test_first_publication_notifies_instant_subscribers_once(site_builder, subscribe):
    subscribe("all@example.org")
    subscribe("housing@example.org", category="housing")
    subscribe("water@example.org", category="water")
    subscribe("daily@example.org", frequency="daily")
    subscribe("pending@example.org", confirmed=False)
    report = site_builder.report("Rents <rising>", categories=[site_builder.category("Housing")])
    [mail] = mails_to("all@example.org")
    assert "Rents <rising>" in mail.subject
    assert "Rents &lt;rising&gt;" in mail.html_body and report.full_url in mail.text_body
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert len(mails_to("housing@example.org")) == 1
    assert mails_to("water@example.org") == []
    assert mails_to("daily@example.org") == []
    assert len(mails_to("pending@example.org")) == 1  # its confirmation only
    # An edit, and re-publishing after unpublishing, announce nothing again.
    count = OutgoingMail.objects.count()
    report.title = "Rents rising fast"
    report.save_revision().publish()
    report.unpublish()
    report.save_revision().publish()
    assert OutgoingMail.objects.count() == count
    assert Announcement.objects.count() == 1


def test_draft_is_announced_when_first_published(site_builder, subscribe):
    subscribe("all@example.org")
    report = site_builder.report("Draft", live=False)
    assert mails_to("all@example.org") == []
    report.save_revision().publish()
    assert len(mails_to("all@example.org")) == 1


def test_private_report_is_not_announced(site_builder, subscribe):
    subscribe("all@example.org")
    site_builder.report("Members only", private=True, live=False).save_revision().publish()
    assert Announcement.objects.count() == 0
    assert mails_to("all@example.org") == []


def test_what_is_public_here_is_what_publishing_calls_public(site_builder):
    """subscriptions.wagtail keeps its own copy of publishing's test (publishing imports it, so
    it cannot import publishing): the two answer alike for every kind of report."""
    public = site_builder.report("Public")
    draft = site_builder.report("Draft", live=False)
    restricted = site_builder.report("Restricted", private=True)
    unpublished = site_builder.report("Unpublished")
    unpublished.unpublish()
    reports = [public, draft, restricted, unpublished]
    answers = [(is_public(report), report_is_public(report)) for report in reports]
    assert answers == [(True, True), (False, False), (False, False), (False, False)]
    # A restriction on the reports' index hides the report under it too.
    PageViewRestriction.objects.create(page=site_builder.index, restriction_type=PageViewRestriction.LOGIN)
    assert (is_public(public), report_is_public(public)) == (False, False)


def test_digests_are_sent_when_due(subscribe):
    now = timezone.now()
    daily = subscribe("daily@example.org", frequency="daily")
    weekly = subscribe("weekly@example.org", frequency="weekly")
    Subscription.objects.filter(pk__in=[daily.pk, weekly.pk]).update(confirmed_at=now - timedelta(days=3))
    services.announce_post(
        "report-1", title="One", url="https://example.org/one/", published_at=now - timedelta(hours=5)
    )
    services.announce_post(
        "report-2", title="Two", url="https://example.org/two/", published_at=now - timedelta(hours=1)
    )
    assert mails_to("daily@example.org") == []  # not instant
    assert services.send_digests("daily", now) == 1
    [digest] = mails_to("daily@example.org")
    assert "One" in digest.text_body and "https://example.org/two/" in digest.html_body
    assert digest.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # Not due again within the day; due a day later, with nothing new: no mail.
    assert services.send_digests("daily", now + timedelta(hours=2)) == 0
    assert services.send_digests("daily", now + timedelta(days=1, minutes=1)) == 0
    assert len(mails_to("daily@example.org")) == 1
    # Weekly: due only once a week has passed since confirmation.
    assert services.send_digests("weekly", now) == 0
    assert services.send_digests("weekly", now + timedelta(days=4, minutes=1)) == 1
    assert len(mails_to("weekly@example.org")) == 1


def test_digest_jobs_are_scheduled_hourly(subscribe):
    from speakout.worker import scheduled_jobs

    jobs_by_name = {name: (every, path) for name, every, path in scheduled_jobs()}
    assert jobs_by_name["send_daily_digest"] == (3600, "speakout.subscriptions.jobs.send_daily_digest")
    assert jobs_by_name["send_weekly_digest"] == (3600, "speakout.subscriptions.jobs.send_weekly_digest")
    daily = subscribe("daily@example.org", frequency="daily")
    Subscription.objects.filter(pk=daily.pk).update(confirmed_at=timezone.now() - timedelta(days=2))
    services.announce_post("report-9", title="Nine", url="https://example.org/nine/")
    jobs.send_daily_digest()
    jobs.send_weekly_digest()
    assert len(mails_to("daily@example.org")) == 1
