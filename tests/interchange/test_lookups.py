"""The importer's look-ups read through an index, on SQLite as on PostgreSQL."""

from __future__ import annotations

from django.db import connection

from speakout.interchange.importers import run_import
from tests.interchange.helpers import FIXTURES
from tests.queryplans import explain


def test_the_importer_finds_proven_addresses_through_their_unique_index(site):
    """The commenter table has no other index on the exact address: the look-up names both
    conditions of the partial one (SQLite uses a partial index only then)."""
    statements = []

    def keep(execute, sql, params, many, context):
        if sql.startswith("SELECT") and '"speakout_discussion_commenter"."email" IN' in sql:
            statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(keep):
        run_import(FIXTURES / "edge-cases.xml")
    assert statements
    for sql, params in statements:
        assert "speakout_commenter_unique_proven_email" in explain(sql, params), sql
