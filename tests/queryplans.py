"""How the database would run a statement, for tests that a look-up reads through an index."""

from __future__ import annotations

from django.db import connection


def explain(sql: str, params) -> str:
    """The plan of ``sql`` as one string. On PostgreSQL sequential scans are switched off for the
    statement's transaction: a test's tables are too small for the planner to prefer an index."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            return " ".join(str(row) for row in cursor.fetchall())
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return " ".join(row[0] for row in cursor.fetchall())


def plan(queryset) -> str:
    """The plan of a queryset's statement."""
    return explain(*queryset.query.sql_with_params())
