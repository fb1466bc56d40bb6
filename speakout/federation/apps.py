from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FederationConfig(AppConfig):
    name = "speakout.federation"
    label = "speakout_federation"
    verbose_name = _("Federation")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from speakout.discussion.html import IDENTITY_SOURCES

        from . import receivers  # noqa: F401  (publishing a report sends it to followers)
        from .identities import reply_identities

        if reply_identities not in IDENTITY_SOURCES:
            IDENTITY_SOURCES.append(reply_identities)
