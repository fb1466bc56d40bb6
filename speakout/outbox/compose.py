"""Rendering a mail in the one layout every mail of the site shares.

Each mail is a pair of templates, ``<name>.txt`` and ``<name>.html``, extending
``outbox/email/layout.txt`` and ``outbox/email/layout.html``: the organisation's name at the
top, the mail's ``content`` block, then its ``footer`` block (why the reader gets it, and the
unsubscribe link where there is one). The layout holds no image, font, script or remote
resource and no tracking; override it (same path, a project template folder) to restyle every
mail at once.
"""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from .sender import organisation_name


def mail_context(language: str = "") -> dict:
    """What the layout needs: the organisation's name, the site's address and the language."""
    return {
        "site_name": organisation_name(),
        "base_url": settings.BASE_URL.rstrip("/"),
        "language": language or translation.get_language() or settings.LANGUAGE_CODE,
    }


def render_mail(template: str, context: dict, *, language: str = "") -> tuple[str, str]:
    """The plain-text and HTML parts of ``<template>.txt`` and ``<template>.html``, rendered in
    ``language`` (the current one if empty) with the layout's context under ``context``."""
    with translation.override(language or translation.get_language()):
        full = {**mail_context(language), **context}
        return render_to_string(f"{template}.txt", full), render_to_string(f"{template}.html", full)


def from_text(text: str, *, language: str = "") -> tuple[str, str]:
    """The two parts of a mail written as plain text only (the account mails of allauth): the
    text inside the layout, and the same text as HTML with its links made clickable."""
    return render_mail("outbox/email/text", {"text": text.strip()}, language=language)
