"""What privacy tests share: the reader's address, the mails sent to an address and the manage
link in a mail."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from speakout.outbox.models import OutgoingMail

EMAIL = "robin@example.org"


def mails_to(address):
    return list(OutgoingMail.objects.filter(to=address).order_by("pk"))


def manage_path(mail: OutgoingMail) -> str:
    match = re.search(r"https?://\S+/privacy/my-replies/\S+/", mail.text_body)
    assert match, mail.text_body
    return urlsplit(match.group(0)).path
