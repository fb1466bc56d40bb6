"""What privacy tests share: the reader's address, the mails sent to an address, the manage link
in a mail, an account's proven address and the search of every table for a person's traces."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.apps import apps
from django.contrib.sessions.models import Session
from django.db import models

from speakout.outbox.models import OutgoingMail

EMAIL = "robin@example.org"


def mails_to(address):
    return list(OutgoingMail.objects.filter(to=address).order_by("pk"))


def manage_path(mail: OutgoingMail) -> str:
    match = re.search(r"https?://\S+/privacy/my-replies/\S+/", mail.text_body)
    assert match, mail.text_body
    return urlsplit(match.group(0)).path


def verify(user, email):
    """Mark the address as proven to belong to the account (allauth's record when installed)."""
    if apps.is_installed("allauth.account"):
        from allauth.account.models import EmailAddress

        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)


@dataclass(frozen=True)
class Kept:
    """Rows of ``label`` may still hold the address in ``fields`` when ``applies(row)``."""

    label: str
    fields: frozenset[str]
    why: str
    applies: Callable[[dict], bool] | None = None  # of the row's {field: value}; None: every row

    def allows(self, label: str, field: str, row: dict) -> bool:
        return label == self.label and field in self.fields and (self.applies is None or self.applies(row))


def _text_fields(model) -> list[models.Field]:
    return [
        field
        for field in model._meta.concrete_fields
        if isinstance(field, (models.CharField, models.TextField, models.JSONField))
    ]


def _as_text(model, field: models.Field, value) -> str:
    if value is None:
        return ""
    if model is Session and field.name == "session_data":
        return json.dumps(Session.objects.decode(value), ensure_ascii=False, default=str)
    if isinstance(field, models.JSONField):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def rows_holding(address: str, kept=()) -> list[tuple[str, object, str]]:
    """(model label, primary key, field) of every row holding ``address`` in any case, but for
    what ``kept`` allows."""
    needle = address.casefold()
    found = []
    for model in apps.get_models():
        fields = _text_fields(model)
        if not fields:
            continue
        names = [field.attname for field in model._meta.concrete_fields]
        label = model._meta.label
        for values in model._base_manager.values_list(*names).iterator():
            row = dict(zip(names, values, strict=True))
            for field in fields:
                if needle not in _as_text(model, field, row[field.attname]).casefold():
                    continue
                if not any(rule.allows(label, field.name, row) for rule in kept):
                    found.append((label, row[model._meta.pk.attname], field.name))
    return found
