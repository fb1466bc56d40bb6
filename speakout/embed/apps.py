from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EmbedConfig(AppConfig):
    name = "speakout.embed"
    label = "speakout_embed"
    verbose_name = _("Embedding")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import origins

        origins.connect()
