import pytest

from speakout.discussion.services import get_or_create_thread
from speakout.safety.models import SafetySettings


@pytest.fixture
def safety(db):
    settings = SafetySettings.load()
    settings.protected_names = "Tom Okafor\nMaría José Fernández"
    settings.save()
    return settings


@pytest.fixture
def thread(db):
    return get_or_create_thread("report-safety", url="http://testserver/reports/safety/", title="A safety report")
