from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContactConfig(AppConfig):
    name = "speakout.contact"
    label = "speakout_contact"
    verbose_name = _("Contact form")
    default_auto_field = "django.db.models.BigAutoField"
