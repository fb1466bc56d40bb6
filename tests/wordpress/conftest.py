"""Real WordPress (Debian's package, its PHP CLI and a throwaway MariaDB database).

These tests do not depend on Speakout's database engine, so they run once per CI run: with the
PostgreSQL pass (see tests/integration/server.py, ``database_kind``).
"""

from tests.integration.server import database_kind
from tests.interchange.test_wxr_export import every_case  # noqa: F401  (a site with every case)

collect_ignore = [] if database_kind() == "postgres" else ["test_real_wordpress.py"]
