"""Load and fault tests against real servers (see harness.py), plus the in-process 503 tests.

The PostgreSQL outage test runs in the PostgreSQL run only, the SQLite lock and full-disk tests
in the SQLite run only: each exercises the database that run deploys (docs/reliability.md).
"""

import pytest

from tests.integration.server import database_kind, pytest_collection_modifyitems  # noqa: F401
from tests.reliability.harness import prepare_base

collect_ignore = ["test_sqlite_faults.py"] if database_kind() == "postgres" else ["test_postgres_outage.py"]


@pytest.fixture(scope="session")
def base_site(tmp_path_factory):
    """One migrated database with the demo content; each server test runs on a copy."""
    base = prepare_base(tmp_path_factory.mktemp("reliability-base"))
    yield base
    base.cleanup()


@pytest.fixture
def make_server(base_site, tmp_path):
    """Start servers on copies of the base site; everything is stopped and dropped afterwards."""
    from tests.reliability.harness import make_server as build

    servers = []

    def make(**options):
        server = build(base_site, tmp_path / f"server-{len(servers)}", **options)
        servers.append(server)
        server.start()
        return server

    yield make
    for server in servers:
        server.cleanup()
