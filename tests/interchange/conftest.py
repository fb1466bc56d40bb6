from __future__ import annotations

import pytest

from tests.interchange.helpers import build_every_case


@pytest.fixture
def every_case(site_builder):
    """A site with every case WXR must carry (see ``helpers.build_every_case``)."""
    return build_every_case(site_builder)


@pytest.fixture
def site(site_builder):
    return site_builder


@pytest.fixture
def site_builder_transactional(transactional_db):
    from tests.helpers import SiteBuilder

    return SiteBuilder()
