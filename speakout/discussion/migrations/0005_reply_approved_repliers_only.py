"""Pile-on brakes (issue 10): a writer may ask that only approved commenters answer a reply."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("speakout_discussion", "0004_commenter_handle_and_email_permission"),
    ]

    operations = [
        migrations.AddField(
            model_name="reply",
            name="approved_repliers_only",
            field=models.BooleanField(default=False, verbose_name="only approved commenters may reply"),
        ),
    ]
