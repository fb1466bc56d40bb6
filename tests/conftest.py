import pytest

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

    cache.clear()
