from django.db import migrations


def forget_browser_keys_of_account_replies(apps, schema_editor):
    # An account's reply filed under the browser's guest key as well stayed that browser's after
    # signing out (a shared computer): the account alone holds it now.
    Reply = apps.get_model("speakout_discussion", "Reply")
    Reply.objects.filter(user__isnull=False).exclude(guest_key="").update(guest_key="")


class Migration(migrations.Migration):
    dependencies = [("speakout_discussion", "0017_reply_submission_once_partial")]

    operations = [migrations.RunPython(forget_browser_keys_of_account_replies, migrations.RunPython.noop)]
