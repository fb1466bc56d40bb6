"""The time a reply shows (speakout/discussion/html.py ``ReplyRenderer.when``): the date in the
site's format and the hour and minute as ``%H:%M`` gives them, in the site's time zone."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from django.utils.formats import date_format

from speakout.discussion.html import ReplyRenderer


@pytest.mark.parametrize("zone", ["UTC", "America/Sao_Paulo", "Asia/Kolkata"])
def test_the_shown_time_is_the_local_hour_and_minute(settings, zone):
    settings.TIME_ZONE = zone
    with timezone.override(zone):
        renderer = ReplyRenderer(accepts_replies=True)
        for moment in (
            datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
            datetime.datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=datetime.UTC),
            datetime.datetime(2026, 6, 1, 12, 0, tzinfo=datetime.UTC),
        ):
            local = timezone.localtime(moment)
            assert renderer.when(moment) == (
                local.isoformat(),
                f"{date_format(local.date(), 'DATE_FORMAT')}, {local.strftime('%H:%M')}",
            )
