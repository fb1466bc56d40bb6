import pytest

from tests.discussion import helpers as discussion
from tests.helpers import SiteBuilder


@pytest.fixture
def site_builder(db):
    """A factory for a small publishing tree: home page, reports index, reports and pages."""
    return SiteBuilder()


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: the database is rolled back between tests (ids are
    reused), so pages and fragments cached by an earlier test must not answer a later one."""
    from django.core.cache import cache

    from speakout.pagecache import versions

    cache.clear()
    if versions.file_versions() is not None:
        versions.file_versions().clear()


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the site's default language. The test client runs requests in the
    test's own thread, and LocaleMiddleware leaves the last request's language active there, so
    a Spanish page in one test would otherwise turn a later test's messages into Spanish."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture
def rules(db):
    """The discussion settings row, with the first-reply hold off so replies publish."""
    return discussion.publishing_rules()


@pytest.fixture
def thread(db):
    return discussion.report_thread()


@pytest.fixture
def post_reply(rules):
    """Submit a reply through the service with sensible defaults; override any field."""
    return discussion.post
