# The Message-ID's and deduplication key's uniqueness as constraints, without the LIKE index
# PostgreSQL had beside each (no query reads them; every mail's insert, claim and sent mark wrote
# them). The unique indexes stay as they are: on PostgreSQL renamed, on SQLite (an index of the
# table itself, which only a rebuild could rename) untouched.

from django.db import migrations, models

TABLE = "speakout_outbox_outgoingmail"
COLUMNS = {"message_id": "speakout_outbox_message_id_once", "dedupe_key": "speakout_outbox_dedupe_key_once"}


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    for column, name in COLUMNS.items():
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.conname FROM pg_constraint c JOIN pg_attribute a"
                " ON a.attrelid = c.conrelid AND c.conkey = ARRAY[a.attnum]"
                " WHERE c.conrelid = %s::regclass AND c.contype = 'u' AND a.attname = %s",
                [TABLE, column],
            )
            unique = [row[0] for row in cursor.fetchall()]
            cursor.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename = %s AND indexdef LIKE %s",
                [TABLE, f"%({column} varchar_pattern_ops)"],
            )
            like = [row[0] for row in cursor.fetchall()]
        for found in unique[:1]:
            schema_editor.execute(f"ALTER TABLE {quote(TABLE)} RENAME CONSTRAINT {quote(found)} TO {quote(name)}")
        for found in like:
            schema_editor.execute(f"DROP INDEX {quote(found)}")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    for column, name in COLUMNS.items():
        schema_editor.execute(f"ALTER TABLE {quote(TABLE)} RENAME CONSTRAINT {quote(name)} TO {quote(f'{TABLE}_{column}_key')}")
        schema_editor.execute(
            f"CREATE INDEX {quote(f'{TABLE}_{column}_like')} ON {quote(TABLE)} ({quote(column)} varchar_pattern_ops)"
        )


class Migration(migrations.Migration):

    dependencies = [
        ("speakout_outbox", "0003_bounces"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="outgoingmail",
                    name="message_id",
                    field=models.CharField(editable=False, max_length=255, verbose_name="Message-ID"),
                ),
                migrations.AlterField(
                    model_name="outgoingmail",
                    name="dedupe_key",
                    field=models.CharField(blank=True, max_length=255, null=True, verbose_name="deduplication key"),
                ),
                migrations.AddConstraint(
                    model_name="outgoingmail",
                    constraint=models.UniqueConstraint(fields=["message_id"], name="speakout_outbox_message_id_once"),
                ),
                migrations.AddConstraint(
                    model_name="outgoingmail",
                    constraint=models.UniqueConstraint(fields=["dedupe_key"], name="speakout_outbox_dedupe_key_once"),
                ),
            ],
            database_operations=[migrations.RunPython(forwards, backwards)],
        ),
    ]
