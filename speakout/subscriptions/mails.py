"""The subscriptions' mails: rendered from text and HTML templates in the subscriber's language,
queued in the outbox in the caller's transaction. Every mail but the confirmation carries the
subscription's one-click unsubscribe link and the RFC 8058 headers."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from speakout.discussion.forms import INVISIBLE_OR_BIDI
from speakout.outbox.sender import for_the_batch, organisation_name
from speakout.outbox.services import queue_mail
from speakout.theme.languages import default_language

from . import tokens
from .app_settings import app_settings
from .models import Subscription


def absolute(path: str) -> str:
    return f"{app_settings.BASE_URL}{path}"


def confirm_url(subscription: Subscription, *, together=()) -> str:
    token = tokens.make_token(subscription, tokens.CONFIRM, together=together)
    return absolute(reverse("subscriptions:confirm", args=[token]))


def unsubscribe_url(subscription: Subscription) -> str:
    """The subscription's one-click unsubscribe link. Within a batch (``one_batch``) each row's
    link is signed once: it does not expire, so every mail of the batch may carry the same."""
    return for_the_batch(
        f"subscriptions:unsubscribe:{subscription.pk}:{subscription.secret}",
        lambda: link("subscriptions:unsubscribe", tokens.make_token(subscription, tokens.UNSUBSCRIBE)),
    )


def unsubscribe_all_url(email: str) -> str:
    return for_the_batch(
        f"subscriptions:unsubscribe_all:{email}",
        lambda: link("subscriptions:unsubscribe_all", tokens.make_address_token(email)),
    )


_PLACEHOLDER = "--token--"
# What a signed token is made of (base64url, ":" between its parts, "." before compressed data):
# characters reverse() writes as they are.
_PLAIN_TOKEN = re.compile(r"[A-Za-z0-9_.:-]+")


def link(name: str, token: str) -> str:
    """``absolute(reverse(name, args=[token]))``, with the URL resolver asked once per batch (for
    a placeholder the token then takes the place of): a batch's links differ only by their tokens."""
    if not _PLAIN_TOKEN.fullmatch(token):
        return absolute(reverse(name, args=[token]))
    pattern = for_the_batch(f"subscriptions:link:{name}", lambda: absolute(reverse(name, args=[_PLACEHOLDER])))
    head, _placeholder, tail = pattern.rpartition(_PLACEHOLDER)
    return f"{head}{token}{tail}"


TITLE_LENGTH = 80
_LINK = re.compile(r"(?i)\b(?:[a-z][a-z0-9+.-]*://|www\.)[^\s“”\"'<>]*")


def thread_title(thread) -> str:
    """A thread's title as a mail may show it. The title can come from an embedding page, so
    it is one line of printable text, at most ``TITLE_LENGTH`` characters, and any link in it
    to another host than the thread's own address is cut out: the site must not mail an
    attacker's "verify at https://evil.example" in its own words."""
    if thread is None:
        return ""
    own_host = urlsplit(thread.url or "").hostname or ""

    def link(match) -> str:
        host = urlsplit(match.group(0) if "://" in match.group(0) else f"//{match.group(0)}").hostname or ""
        return match.group(0) if own_host and host == own_host else "…"

    text = "".join(char if char.isprintable() and char not in INVISIBLE_OR_BIDI else " " for char in thread.title)
    text = " ".join(_LINK.sub(link, text).split()) or thread.key
    if len(text) > TITLE_LENGTH:
        text = text[: TITLE_LENGTH - 1].rstrip() + "…"
    return text


def language_of(subscription: Subscription) -> str:
    return subscription.language or for_the_batch("default_language", default_language)


def render(
    subscription: Subscription, template: str, subject, context: dict, *, dedupe_key: str | None, unsubscribe=True
) -> dict[str, Any]:
    """Render ``subscriptions/email/<template>.txt`` and ``.html``: the arguments of one
    ``queue_mail`` call. ``subject`` may be a callable, so it is translated in the subscriber's
    language."""
    language = language_of(subscription)
    headers = {}
    with translation.override(language):
        context = {
            "subscription": subscription,
            "thread_title": thread_title(subscription.thread),
            "site_name": organisation_name(),
            "base_url": app_settings.BASE_URL,
            "language": language,
            **context,
        }
        if unsubscribe:
            context["unsubscribe_url"] = link = unsubscribe_url(subscription)
            context["unsubscribe_all_url"] = unsubscribe_all_url(subscription.email)
            headers = {"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
        text = render_to_string(f"subscriptions/email/{template}.txt", context)
        html = render_to_string(f"subscriptions/email/{template}.html", context)
        subject = " ".join(str(subject() if callable(subject) else subject).split())[:500]
    return {
        "to": subscription.email,
        "subject": subject,
        "text": text,
        "html": html,
        "headers": headers,
        "language": language,
        "dedupe_key": dedupe_key,
    }


def send(subscription: Subscription, template: str, subject, context: dict, *, dedupe_key: str, unsubscribe=True):
    """Render one mail (see ``render``) and queue it in the current transaction."""
    return queue_mail(
        **render(subscription, template, subject, context, dedupe_key=dedupe_key, unsubscribe=unsubscribe)
    )
