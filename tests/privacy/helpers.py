"""What privacy tests share: the reader's address, the mails sent to an address, the manage link
in a mail and an account's proven address."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.apps import apps

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
