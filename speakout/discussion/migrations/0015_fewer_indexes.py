# Indexes no query needs, dropped: each one costs every reply and commenter insert.
#
# The fields' index changes are made in state only, with the indexes Django named dropped by
# name (the same on SQLite and PostgreSQL, where the address also had a LIKE index): Django's own
# AlterField rebuilds both tables on SQLite, drops and re-validates the foreign keys on
# PostgreSQL, and there also drops every other index on the address column, the partial unique
# constraints included.

from django.conf import settings
from django.db import migrations, models
import django.db.models.deletion

# Each index Django named, and the statement that makes it again (migrating back); the address's
# LIKE index exists only on PostgreSQL, made again by ``restore_like_index``.
DROPPED = [
    ("speakout_discussion_commenter_email_c674f350", 'ON "speakout_discussion_commenter" ("email")'),
    ("speakout_discussion_commenter_email_c674f350_like", None),
    ("speakout_discussion_commenter_user_id_691b4fcd", 'ON "speakout_discussion_commenter" ("user_id")'),
    ("speakout_discussion_reply_thread_id_9f5a066e", 'ON "speakout_discussion_reply" ("thread_id")'),
    ("speakout_discussion_reply_parent_id_1c97ca45", 'ON "speakout_discussion_reply" ("parent_id")'),
    ("speakout_discussion_reply_user_id_2384a127", 'ON "speakout_discussion_reply" ("user_id")'),
]


def restore_like_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            'CREATE INDEX "speakout_discussion_commenter_email_c674f350_like" '
            'ON "speakout_discussion_commenter" ("email" varchar_pattern_ops)'
        )


class Migration(migrations.Migration):

    dependencies = [
        ('speakout_discussion', '0014_commenter_address_proof'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='reply',
            name='speakout_reply_path',
        ),
        migrations.RemoveIndex(
            model_name='reply',
            name='speakout_reply_client_hash',
        ),
        migrations.RemoveIndex(
            model_name='reply',
            name='speakout_reply_external_id',
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='commenter',
                    name='email',
                    field=models.EmailField(blank=True, max_length=254, verbose_name='email'),
                ),
                migrations.AlterField(
                    model_name='commenter',
                    name='user',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='commenters', to=settings.AUTH_USER_MODEL),
                ),
                migrations.AlterField(
                    model_name='reply',
                    name='parent',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='children', to='speakout_discussion.reply'),
                ),
                migrations.AlterField(
                    model_name='reply',
                    name='thread',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='replies', to='speakout_discussion.thread'),
                ),
                migrations.AlterField(
                    model_name='reply',
                    name='user',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
                ),
            ],
            database_operations=[
                migrations.RunPython(migrations.RunPython.noop, restore_like_index),
                *(
                    migrations.RunSQL(
                        f'DROP INDEX IF EXISTS "{name}"',
                        f'CREATE INDEX "{name}" {target}' if target else migrations.RunSQL.noop,
                    )
                    for name, target in DROPPED
                ),
            ],
        ),
        migrations.AddIndex(
            model_name='commenter',
            index=models.Index(condition=models.Q(('user__isnull', False)), fields=['user'], name='speakout_commenter_user'),
        ),
        migrations.AddIndex(
            model_name='reply',
            index=models.Index(condition=models.Q(('parent__isnull', False)), fields=['parent'], name='speakout_reply_parent'),
        ),
        migrations.AddIndex(
            model_name='reply',
            index=models.Index(condition=models.Q(('user__isnull', False)), fields=['user'], name='speakout_reply_user'),
        ),
    ]
