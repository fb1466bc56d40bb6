import pytest

from speakout.discussion.models import DiscussionSettings


@pytest.fixture
def report(site_builder, settings):
    """A report whose replies go through at once: no time trap, pause or hold."""
    settings.SPEAKOUT_DISCUSSION_MIN_SECONDS_TO_SUBMIT = 0
    settings.SPEAKOUT_DISCUSSION_SECONDS_BETWEEN_REPLIES = 0
    settings.SPEAKOUT_DISCUSSION_BURST_LIMIT = (0, 600)
    rules = DiscussionSettings.load()
    rules.hold_first_reply = False
    rules.save()
    return site_builder.report("Rents in the old town")
