"""The site's own language settings, edited in the admin (Settings → Languages)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.contrib.settings.models import BaseGenericSetting, register_setting


def language_choices():
    # Read when the form is built, so the list always follows settings.LANGUAGES.
    return [("", "—"), *((code, _(name)) for code, name in settings.LANGUAGES)]


def validate_offered_language(value: str) -> None:
    if value and value not in {code for code, _name in settings.LANGUAGES}:
        raise ValidationError(_("Choose one of the site's languages."))


@register_setting(icon="globe")
class LanguageSettings(BaseGenericSetting):
    default_language = models.CharField(
        _("default language"),
        max_length=35,
        blank=True,
        validators=[validate_offered_language],
        help_text=_(
            "For readers whose browser asks for none of the site's languages, and for mail to people "
            "who never chose one. Empty: the SPEAKOUT_LANGUAGE setting."
        ),
    )

    panels = [FieldPanel("default_language", widget=forms.Select(choices=language_choices))]

    class Meta:
        verbose_name = _("language settings")
        verbose_name_plural = _("language settings")

    def __str__(self) -> str:
        return str(_("Language settings"))

    def save(self, *args, **kwargs):
        from speakout.pagecache import versions

        from .languages import refill_default_language

        super().save(*args, **kwargs)
        refill_default_language()
        versions.bump("content")  # pages cached in the old default language
