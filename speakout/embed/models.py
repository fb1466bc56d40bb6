"""The origins (scheme, host and port) whose pages may embed the discussion."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class AllowedOrigin(models.Model):
    """A site allowed to embed the discussion: its pages may read threads, create a thread on
    their first reply and post, from a browser (CORS), and receive sign-in tokens."""

    origin = models.CharField(
        _("origin"),
        max_length=255,
        unique=True,
        help_text=_("Scheme, host and port only, for example https://blog.example.org"),
    )
    key_prefix = models.CharField(
        _("thread key prefix"),
        max_length=50,
        blank=True,
        help_text=_(
            "Put before the page path to make a thread key. Leave empty unless several sites "
            "with the same page paths embed this discussion."
        ),
    )
    note = models.CharField(_("note"), max_length=255, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("allowed origin")
        verbose_name_plural = _("allowed origins")
        ordering = ["origin"]

    def __str__(self) -> str:
        return self.origin

    def clean(self) -> None:
        from .origins import normalise_origin

        normalised = normalise_origin(self.origin)
        if not normalised:
            raise ValidationError(
                {"origin": _("Enter an origin such as https://blog.example.org (no path, no query).")}
            )
        self.origin = normalised
