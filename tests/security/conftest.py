import pytest
from django.core.cache import cache

from speakout.discussion import services
from speakout.embed.models import AllowedOrigin
from tests.security.claims import KEY, SITE


@pytest.fixture
def site(settings):
    settings.SPEAKOUT_DISCUSSION_SECONDS_BETWEEN_REPLIES = 0
    settings.SPEAKOUT_DISCUSSION_BURST_LIMIT = (0, 600)
    settings.BASE_URL = "http://testserver"
    cache.clear()
    AllowedOrigin.objects.create(origin=SITE)
    thread = services.get_or_create_thread(KEY, url=f"{SITE}{KEY}", title="A post")
    yield thread
    cache.clear()


@pytest.fixture
def own_data_folders(settings, tmp_path):
    """Media and private folders of the test's own: the tests that watch them for writes must not
    see the files that tests running beside them (other xdist workers) write in the shared ones."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.SPEAKOUT_PRIVATE_DIR = tmp_path / "private"
