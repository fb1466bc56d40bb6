"""A mail backend for tests: every send fails as if the SMTP server had hung up."""

import smtplib

from django.core.mail.backends.base import BaseEmailBackend


class FailingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


class RefusingBackend(BaseEmailBackend):
    """Refuses the recipient, as a server does, naming the address in the error."""

    def send_messages(self, email_messages):
        recipient = email_messages[0].to[0]
        raise smtplib.SMTPRecipientsRefused({recipient: (550, b"No such user " + recipient.encode())})


class RefusingInOtherWordsBackend(BaseEmailBackend):
    """Refuses the recipient quoting it in another case, as many servers do, and naming the
    address it forwards to."""

    def send_messages(self, email_messages):
        recipient = email_messages[0].to[0]
        local, _, domain = recipient.partition("@")
        quoted = f"<{local.title()}@{domain.title()}>"
        words = f"5.1.1 {quoted}: mailbox unavailable (forwarded to robin.home@mail.example)"
        raise smtplib.SMTPRecipientsRefused({recipient: (550, words.encode())})
