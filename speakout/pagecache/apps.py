from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PageCacheConfig(AppConfig):
    name = "speakout.pagecache"
    label = "speakout_pagecache"
    verbose_name = _("Page cache")

    def ready(self):
        from . import checks  # noqa: F401  (registers the middleware order check)
