import pytest

from tests.helpers import SiteBuilder


@pytest.fixture
def site_builder(db):
    """A factory for a small publishing tree: home page, reports index, reports and pages."""
    return SiteBuilder()
