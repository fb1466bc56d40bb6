from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IdentityConfig(AppConfig):
    name = "speakout.identity"
    label = "speakout_identity"
    verbose_name = _("Identity")

    def ready(self) -> None:
        from . import lazy, providers, receivers

        lazy.defer_all()  # before the URL configuration imports allauth's MFA views

        providers.connect()
        receivers.connect()
