"""Real WordPress (Debian's package, its PHP CLI and a throwaway MariaDB database).

These tests do not depend on Speakout's database engine, so they run once per CI run: with the
PostgreSQL pass (see tests/integration/server.py, ``database_kind``).
"""

import pytest

from tests.integration.server import database_kind
from tests.interchange.helpers import build_every_case

collect_ignore = [] if database_kind() == "postgres" else ["test_real_wordpress.py"]


@pytest.fixture
def every_case(site_builder):
    """A site with every case WXR must carry (see ``tests.interchange.helpers``)."""
    return build_every_case(site_builder)
