"""What only PostgreSQL runs: `make test` leaves this folder out of the SQLite run and runs it in
the PostgreSQL one (a test here fails, not skips, on another database)."""

from __future__ import annotations

import pytest
from django.db import connection

from speakout.discussion import services
from speakout.discussion.models import PATH_SEGMENT_LENGTH, path_segment

pytestmark = pytest.mark.django_db


def test_the_path_segment_written_in_sql_is_the_models_own():
    """The reply's INSERT on PostgreSQL writes the tree path's segment in SQL: the same as
    ``path_segment`` for every id, the largest a bigint holds included."""
    assert connection.vendor == "postgresql", "tests/postgres/ runs with DATABASE_URL set to PostgreSQL"
    expression = services.PATH_SEGMENT_SQL.format(id="%s::bigint", width=PATH_SEGMENT_LENGTH - 1)
    with connection.cursor() as cursor:
        for reply_id in (1, 9, 10, 35, 36, 1295, 1296, 36**8 - 1, 36**8, 36**12, 2**63 - 1):
            cursor.execute(f"SELECT {expression}", [reply_id])  # nosec B608
            assert cursor.fetchone()[0] == path_segment(reply_id), reply_id
