"""Wagtail locales for every language the site offers, and existing pages in the default one.

Before pages could be translated, Wagtail put every page in the locale of the language
configured when it was installed. If that is not the site's default language now
(``SPEAKOUT_LANGUAGE``), the pages would move under a language prefix (``/en/...``) and every
link to them would break: they are put in the default language's locale instead. Only the
locale changes; nothing else about a page does. Run again, it changes nothing.
"""

from django.conf import settings
from django.db import migrations
from django.utils import translation


def content_locales(apps, schema_editor):
    Locale = apps.get_model("wagtailcore", "Locale")
    Page = apps.get_model("wagtailcore", "Page")
    default_code = translation.get_supported_language_variant(settings.LANGUAGE_CODE)
    for code, _name in settings.LANGUAGES:
        Locale.objects.get_or_create(language_code=code)
    default = Locale.objects.get(language_code=default_code)
    pages = Page.objects.filter(depth__gt=1)
    in_use = set(pages.values_list("locale_id", flat=True).distinct())
    # Only a site that never had translations: all its pages in one other locale.
    if len(in_use) == 1 and default.pk not in in_use:
        Page.objects.update(locale=default)


class Migration(migrations.Migration):
    dependencies = [
        ("speakout_publishing", "0001_initial"),
        ("wagtailcore", "0098_apitoken"),
    ]

    operations = [migrations.RunPython(content_locales, migrations.RunPython.noop)]
