from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ThemeConfig(AppConfig):
    name = "speakout.theme"
    label = "speakout_theme"
    verbose_name = _("Site theme")
