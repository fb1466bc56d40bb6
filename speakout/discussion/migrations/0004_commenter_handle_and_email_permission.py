"""Pseudonymous but accountable (issue 10): every commenter gets an opaque, stable handle for
moderators, and seeing email addresses becomes a permission of its own."""

from django.db import migrations, models

import speakout.discussion.models


def give_handles(apps, schema_editor):
    Commenter = apps.get_model("speakout_discussion", "Commenter")
    taken = set()
    for commenter in Commenter.objects.filter(handle__isnull=True).only("pk").iterator():
        handle = speakout.discussion.models.new_handle()
        while handle in taken:
            handle = speakout.discussion.models.new_handle()
        taken.add(handle)
        Commenter.objects.filter(pk=commenter.pk).update(handle=handle)


class Migration(migrations.Migration):
    dependencies = [
        ("speakout_discussion", "0003_discussionsettings_moderator_alerts"),
    ]

    operations = [
        # Three steps, as a unique field with a random default needs: a value per existing row.
        migrations.AddField(
            model_name="commenter",
            name="handle",
            field=models.CharField(editable=False, max_length=9, null=True, verbose_name="handle"),
        ),
        migrations.RunPython(give_handles, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="commenter",
            name="handle",
            field=models.CharField(
                default=speakout.discussion.models.new_handle,
                editable=False,
                max_length=9,
                unique=True,
                verbose_name="handle",
            ),
        ),
        migrations.AlterModelOptions(
            name="commenter",
            options={
                "permissions": [("view_commenter_email", "Can see commenters' email addresses")],
                "verbose_name": "commenter",
                "verbose_name_plural": "commenters",
            },
        ),
    ]
