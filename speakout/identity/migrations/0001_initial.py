"""The pseudonym mark, and marking the accounts opened under a pseudonym before it existed.

Those accounts carry no mark, so they are recognised by what "reply under a pseudonym" leaves
behind (allauth's sign-up with ``PseudonymSignupForm``): a password made unusable at sign-up
(allauth does that when the form asks for none), an email address row (the form requires one),
no login provider, not staff, and no "created" entry of the Wagtail admin's log (staff adding a
user there leaves one). What the inference cannot see, and how it errs:

* a pseudonym that set a password before this migration looks like a member and is not marked;
* a non-staff account made without a password outside the admin (a shell, a script) after which
  an address was recorded looks like a pseudonym and is marked. That errs on the safe side: a
  pseudonym's replies never leave the site.

Rows marked here say ``inferred``, so a mistaken one can be found (docs/accounts.md).
"""

import django.db.models.deletion
from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import migrations, models


def mark_existing_pseudonyms(apps, schema_editor):
    User = apps.get_model(settings.AUTH_USER_MODEL)
    PseudonymAccount = apps.get_model("speakout_identity", "PseudonymAccount")
    EmailAddress = apps.get_model("account", "EmailAddress")
    SocialAccount = apps.get_model("socialaccount", "SocialAccount")
    ContentType = apps.get_model("contenttypes", "ContentType")
    ModelLogEntry = apps.get_model("wagtailcore", "ModelLogEntry")

    candidates = (
        User.objects.filter(password__startswith=UNUSABLE_PASSWORD_PREFIX, is_staff=False, is_superuser=False)
        .filter(pk__in=EmailAddress.objects.values("user_id"))
        .exclude(pk__in=SocialAccount.objects.values("user_id"))
        .exclude(pk__in=PseudonymAccount.objects.values("user_id"))
    )
    user_type = ContentType.objects.filter(app_label=User._meta.app_label, model=User._meta.model_name).first()
    made_by_staff = set()
    if user_type is not None:
        entries = ModelLogEntry.objects.filter(content_type=user_type, action="wagtail.create")
        made_by_staff = set(entries.values_list("object_id", flat=True))
    marked = [
        PseudonymAccount(user_id=pk, inferred=True)
        for pk in candidates.values_list("pk", flat=True)
        if str(pk) not in made_by_staff
    ]
    PseudonymAccount.objects.bulk_create(marked, ignore_conflicts=True)


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("account", "0009_emailaddress_unique_primary_email"),
        ("socialaccount", "0006_alter_socialaccount_extra_data"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("wagtailcore", "0098_apitoken"),
    ]

    operations = [
        migrations.CreateModel(
            name="PseudonymAccount",
            fields=[
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="pseudonym_account",
                        serialize=False,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("inferred", models.BooleanField(default=False)),
            ],
            options={
                "verbose_name": "pseudonymous account",
                "verbose_name_plural": "pseudonymous accounts",
            },
        ),
        migrations.RunPython(mark_existing_pseudonyms, migrations.RunPython.noop),
    ]
