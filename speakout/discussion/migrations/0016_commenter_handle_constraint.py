# The handle's uniqueness as a constraint, without the LIKE index PostgreSQL had beside it (no
# query reads it; every new commenter wrote it). The unique index stays as it is: on PostgreSQL
# renamed, on SQLite (an index of the table itself, which only a rebuild could rename) untouched.

from django.db import migrations, models

import speakout.discussion.models

TABLE = "speakout_discussion_commenter"
COLUMN, NAME = "handle", "speakout_commenter_handle_once"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.conname FROM pg_constraint c JOIN pg_attribute a"
            " ON a.attrelid = c.conrelid AND c.conkey = ARRAY[a.attnum]"
            " WHERE c.conrelid = %s::regclass AND c.contype = 'u' AND a.attname = %s",
            [TABLE, COLUMN],
        )
        unique = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = %s AND indexdef LIKE %s",
            [TABLE, f"%({COLUMN} varchar_pattern_ops)"],
        )
        like = [row[0] for row in cursor.fetchall()]
    for found in unique[:1]:
        schema_editor.execute(f"ALTER TABLE {quote(TABLE)} RENAME CONSTRAINT {quote(found)} TO {quote(NAME)}")
    for found in like:
        schema_editor.execute(f"DROP INDEX {quote(found)}")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    schema_editor.execute(f"ALTER TABLE {quote(TABLE)} RENAME CONSTRAINT {quote(NAME)} TO {quote(f'{TABLE}_{COLUMN}_key')}")
    schema_editor.execute(f"CREATE INDEX {quote(f'{TABLE}_{COLUMN}_like')} ON {quote(TABLE)} ({quote(COLUMN)} varchar_pattern_ops)")


class Migration(migrations.Migration):

    dependencies = [
        ("speakout_discussion", "0015_fewer_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="commenter",
                    name="handle",
                    field=models.CharField(
                        default=speakout.discussion.models.new_handle, editable=False, max_length=9, verbose_name="handle"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="commenter",
                    constraint=models.UniqueConstraint(fields=["handle"], name="speakout_commenter_handle_once"),
                ),
            ],
            database_operations=[migrations.RunPython(forwards, backwards)],
        ),
    ]
