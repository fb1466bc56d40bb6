from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EmbedConfig(AppConfig):
    name = "speakout.embed"
    label = "speakout_embed"
    verbose_name = _("Embedding")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.contrib.auth.signals import user_logged_out

        from . import origins, tokens

        origins.connect()
        user_logged_out.connect(tokens.signed_out, dispatch_uid="speakout-embed-signed-out")
