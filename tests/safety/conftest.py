import time
import uuid

import pytest
from django.core.cache import cache

from speakout.discussion.forms import issue_form_token
from speakout.discussion.models import DiscussionSettings
from speakout.discussion.services import get_or_create_thread
from speakout.safety.models import SafetySettings


@pytest.fixture(autouse=True)
def clear_cache():
    """Rate limits and the settings rows live in the cache; every test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def rules(db):
    rules = DiscussionSettings.load()
    rules.hold_first_reply = False
    rules.save()
    return rules


@pytest.fixture
def safety(db):
    settings = SafetySettings.load()
    settings.protected_names = "Tom Okafor\nMaría José Fernández"
    settings.save()
    return settings


@pytest.fixture
def thread(db):
    return get_or_create_thread("report-safety", url="http://testserver/reports/safety/", title="A safety report")


def form_data(thread, **overrides):
    data = {
        "thread": thread.key,
        "name": "Robin",
        "email": "robin@example.org",
        "website": "",
        "body": "A thoughtful reply.",
        "form_token": issue_form_token(thread.key, issued_at=time.time() - 10),
        "submission_id": uuid.uuid4().hex,
    }
    data.update(overrides)
    return data
