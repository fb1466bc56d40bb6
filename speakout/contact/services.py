"""Storing a contact message and queueing its mails, in one transaction.

The spam defence is the reply pipeline's (``speakout.discussion.policy``): the time trap
refuses, the honeypot and block words store the message as spam (never mailed), and a rate
limit of its own (``SPEAKOUT_CONTACT_SECONDS_BETWEEN_MESSAGES``) refuses a client or an email
address that sent a message a moment ago.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from speakout.discussion import policy
from speakout.discussion.forms import INVISIBLE_OR_BIDI
from speakout.discussion.models import DiscussionSettings
from speakout.outbox.compose import render_mail
from speakout.outbox.models import SUBJECT_MAX_LENGTH
from speakout.outbox.services import queue_mail

from .app_settings import app_settings
from .models import ContactMessage, ContactPage

SUBJECT_WORDS = 8
SUBJECT_TEXT_LENGTH = 70


def form_key(page: ContactPage) -> str:
    """What the time-trap token is bound to."""
    return f"contact:{page.pk}"


class ContactRateLimitCheck(policy.RateLimitCheck):
    """At most one message per N seconds per client and per account (no burst limit), never per
    typed address: that would tell a stranger typing it that its owner has just written."""

    scope = "speakout:contact:rl"

    def limits(self) -> tuple[int, int, int]:
        return app_settings.SECONDS_BETWEEN_MESSAGES, 0, 0

    def wait_message(self, seconds: int) -> str:
        return ngettext(
            "You have just sent a message. Please wait %(seconds)d second and send again.",
            "You have just sent a message. Please wait %(seconds)d seconds and send again.",
            seconds,
        ) % {"seconds": seconds}


def checks() -> list[policy.Check]:
    return [policy.TimeTrapCheck(), policy.HoneypotCheck(), ContactRateLimitCheck(), policy.BlockWordsCheck()]


@dataclass
class Outcome:
    message: ContactMessage | None = None
    code: str = ""
    error: str = ""
    mails: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.message is not None


def one_line(text: str) -> str:
    """Text fit for a header: no line breaks, control, invisible or bidi characters; single spaces."""
    kept = "".join(
        " " if char.isspace() or char in INVISIBLE_OR_BIDI or not char.isprintable() else char for char in text
    )
    return re.sub(r" +", " ", kept).strip()


def subject_for(topic: str, message: str) -> str:
    about = one_line(topic) or " ".join(one_line(message).split(" ")[:SUBJECT_WORDS])
    if len(about) > SUBJECT_TEXT_LENGTH:
        about = about[: SUBJECT_TEXT_LENGTH - 1].rstrip() + "…"
    return (_("Contact: %(about)s") % {"about": about})[:SUBJECT_MAX_LENGTH]


def copy_address(user, typed_email: str) -> str:
    """Where "Send me a copy" may send the sender's text: an address the signed-in sender has
    verified (the typed one if it is among them), else nowhere. A copy to a typed address
    would let anyone make the site mail any text to anyone."""
    from speakout.subscriptions.services import verified_addresses

    addresses = verified_addresses(user)
    if not addresses:
        return ""
    typed = (typed_email or "").strip().lower()
    return typed if typed in addresses else addresses[0]


def submit_message(
    page: ContactPage,
    data: dict,
    *,
    client_hash: str,
    form_age: float | None,
    honeypot: str = "",
    inbox_url: str = "",
    site_name: str = "",
    copy_to: str = "",
    user: Any = None,
) -> Outcome:
    """Check, store and queue one message. ``data`` is a contact form's cleaned data.

    Refused (time trap, rate limit): nothing is stored, ``Outcome.code`` says why. Spam: stored,
    marked, not mailed. Otherwise stored, with one mail per recipient (Reply-To: the sender) and
    a copy to ``copy_to`` if given (see ``copy_address``), all in one transaction: any error
    stores and queues nothing."""
    submission = policy.Submission(
        thread=None,
        body=data["message"],
        name=data["name"],
        email=data["email"],
        website="",
        client_hash=client_hash,
        rules=DiscussionSettings.load(),
        now=timezone.now(),
        form_age=form_age,
        honeypot=honeypot,
        # A signed-in sender is limited by their account, not by what others typed as their address.
        user=user if getattr(user, "is_authenticated", False) else None,
    )
    run = policy.PolicyRun(submission, checks())
    result = run.check()
    if result.rejection is not None:
        return Outcome(code=result.rejection.code, error=result.rejection.message)
    spam = result.decision == policy.Decision.SPAM
    with transaction.atomic():
        lost_race = run.reserve()
        if lost_race is not None:
            return Outcome(code=lost_race.code, error=lost_race.message)
        message = ContactMessage.objects.create(
            page=page,
            name=data["name"],
            email=data["email"],
            topic=data.get("topic") or "",
            message=data["message"],
            client_hash=client_hash,
            copy_requested=bool(copy_to),
            is_spam=spam,
            spam_reason=result.reasons[:500] if spam else "",
        )
        mails = (
            []
            if spam
            else queue_message_mails(page, message, inbox_url=inbox_url, site_name=site_name, copy_to=copy_to)
        )
        run.accepted(message)
    return Outcome(message=message, code="spam" if spam else "sent", mails=mails)


def release_held_message(message: ContactMessage, *, inbox_url: str) -> list:
    """A person judged a message the filters caught genuine: it joins the inbox and is mailed to
    the recipients as if it had passed. No copy goes to the sender (their address was trusted,
    or not, only when they sent it). Twice is harmless: only a held message moves."""
    from speakout.outbox.sender import organisation_name

    page = message.page
    with transaction.atomic():
        moved = ContactMessage.objects.filter(pk=message.pk, is_spam=True).update(is_spam=False, spam_reason="")
        if not moved or page is None:
            return []
        message.refresh_from_db()
        return queue_message_mails(page, message, inbox_url=inbox_url, site_name=organisation_name())


def queue_message_mails(
    page: ContactPage, message: ContactMessage, *, inbox_url: str, site_name: str, copy_to: str = ""
) -> list:
    """One mail per recipient address, and the sender's copy to ``copy_to`` (a verified address)
    if given. Call inside a transaction."""
    language = translation.get_language() or ""
    subject = subject_for(message.topic, message.message)
    context = {"message": message, "page": page, "inbox_url": inbox_url, "site_name": site_name, "copy": False}
    text, html = render_mail("contact/email/message", context, language=language)
    reply_to = {"Reply-To": message.email}
    mails = [
        queue_mail(address, subject, text, html, headers=reply_to, language=language) for address in page.recipient_list
    ]
    if copy_to:
        copy = {**context, "copy": True, "inbox_url": ""}
        copy_text, copy_html = render_mail("contact/email/message", copy, language=language)
        copy_subject = (_("Copy: %(subject)s") % {"subject": subject})[:SUBJECT_MAX_LENGTH]
        mails.append(queue_mail(copy_to, copy_subject, copy_text, copy_html, language=language))
    return mails
