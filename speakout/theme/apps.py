from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ThemeConfig(AppConfig):
    name = "speakout.theme"
    label = "speakout_theme"
    verbose_name = _("Site theme")

    def ready(self):
        from speakout.net import sharedreads

        from .languages import language_keys

        # Read with any keys the request reads together (a reply post's): one round trip fewer.
        sharedreads.prefetch(language_keys, alongside=True)
