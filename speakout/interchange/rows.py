"""Rows the importer writes in bulk, with their ids chosen up front (so tree paths, which hold
ids, are known before anything is written)."""

from __future__ import annotations

from django.db import connection, models
from django.db.models import Max


def insert_rows(model, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """INSERT ``rows`` (values for the fields named by ``columns``, as attribute names); every
    other field gets its default. For plain values only: no save(), no signals. bulk_create
    prepares each value of each row through its field, which was most of the time of a
    100,000-reply import; here only dates are prepared, once per value. PostgreSQL gets the
    rows through COPY (one statement however many rows; an INSERT per row cost the server more
    than the import's own work), other databases through one executemany."""
    if not rows:
        return
    fields = {field.attname: field for field in model._meta.concrete_fields}
    given = [fields[name] for name in columns]
    others = [field for name, field in fields.items() if name not in columns]
    defaults = tuple(field.get_db_prep_save(field.get_default(), connection) for field in others)
    dates = [i for i, field in enumerate(given) if isinstance(field, models.DateTimeField)]
    prepared = []
    for row in rows:
        if dates:
            row = list(row)
            for i in dates:
                row[i] = given[i].get_db_prep_save(row[i], connection)
        prepared.append((*row, *defaults))
    _insert(model, given + others, prepared, copy=connection.vendor == "postgresql")


def insert_objects(model, objects: list) -> None:
    """INSERT unsaved ``objects`` (ids set) into ``model``'s own table only: for a page, the
    ``wagtailcore_page`` row and the specific row are two calls. Values go through each field's
    own preparation, as ``save()`` would (pre-save hooks included); no signals are sent."""
    if not objects:
        return
    fields = model._meta.local_concrete_fields
    rows = [tuple(field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields) for obj in objects]
    _insert(model, fields, rows)


def _insert(model, fields: list, rows: list[tuple], *, copy: bool = False) -> None:
    """``rows`` (prepared values of ``fields``, in order) into ``model``'s table: through
    PostgreSQL's COPY, else one executemany. The table and column names are the model's own,
    quoted; every value is data or a parameter."""
    quote = connection.ops.quote_name
    table, names = quote(model._meta.db_table), ", ".join(quote(field.column) for field in fields)
    with connection.cursor() as cursor:
        if copy:
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copying:
                for row in rows:
                    copying.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(fields))
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)  # nosec B608


def reserve_ids(model, count: int, after: int = 0) -> list[int]:
    """``count`` fresh primary keys for ``model``, all above ``after``. Called inside the import's
    transaction: on PostgreSQL the sequence hands them out; on SQLite the transaction holds the
    write lock, so nobody else can take the ids after the current maximum (``after`` is the
    highest id the import has reserved but not written yet)."""
    table, column = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, column, count]
            )
            return [row[0] for row in cursor.fetchall()]
        start = model._base_manager.aggregate(highest=Max("pk"))["highest"] or 0
        if connection.vendor == "sqlite":
            # AUTOINCREMENT never reuses the id of a deleted row; neither do we.
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = cursor.fetchone()
            start = max(start, row[0] if row else 0)
        start = max(start, after)
        return list(range(start + 1, start + 1 + count))


class IdAllocator:
    """Fresh ids for rows the import writes with their ids, per model."""

    def __init__(self) -> None:
        self._pool: dict[type[models.Model], list[int]] = {}  # PostgreSQL: taken from the sequence, not used yet
        self._highest: dict[type[models.Model], int] = {}  # SQLite: the highest id reserved so far

    def take(self, model: type[models.Model], count: int, chunk: int) -> list[int]:
        """``count`` fresh ids for rows the import writes with their ids. PostgreSQL: taken from
        the sequence ``chunk`` at a time (an unused rest leaves a gap, as sequences do). SQLite:
        above both the table's highest id and the highest reserved so far (rows of the batch
        are not written yet); Page, Thread and Reply rows are only added through here or after
        ``flush``, so nobody else takes these ids."""
        if count <= 0:
            return []
        if connection.vendor == "postgresql":
            pool = self._pool.setdefault(model, [])
            if len(pool) < count:
                pool.extend(reserve_ids(model, max(count - len(pool), chunk)))
            ids, self._pool[model] = pool[:count], pool[count:]
            return ids
        ids = reserve_ids(model, count, after=self._highest.get(model, 0))
        self._highest[model] = ids[-1]
        return ids
