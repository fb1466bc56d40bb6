"""Import uploads move to the private folder; those an earlier version left under the served
media folder (``MEDIA_ROOT/interchange/uploads/``, public to anyone who guessed a name) are deleted."""

from pathlib import Path

from django.conf import settings
from django.db import migrations, models

import speakout.interchange.storage

OLD_FOLDER = "interchange/uploads/"


def delete_public_uploads(apps, schema_editor):
    ImportRun = apps.get_model("speakout_interchange", "ImportRun")
    folder = Path(settings.MEDIA_ROOT) / OLD_FOLDER
    if folder.is_dir():
        for path in folder.iterdir():
            if path.is_file() or path.is_symlink():
                path.unlink()
    unfinished = ImportRun.objects.filter(file__startswith=OLD_FOLDER, status__in=["queued", "running"])
    unfinished.update(
        status="failed",
        error="The uploaded file was deleted when the site was upgraded (it was stored where anyone "
        "could download it). Please upload it again.",
        file="",
    )
    ImportRun.objects.filter(file__startswith=OLD_FOLDER).update(file="")


class Migration(migrations.Migration):
    dependencies = [("speakout_interchange", "0001_initial")]

    operations = [
        migrations.AlterField(
            model_name="importrun",
            name="file",
            field=models.FileField(
                blank=True,
                storage=speakout.interchange.storage.private_uploads,
                upload_to=speakout.interchange.storage.random_upload_name,
                verbose_name="file",
            ),
        ),
        migrations.RunPython(delete_public_uploads, migrations.RunPython.noop),
    ]
