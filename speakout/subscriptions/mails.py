"""The subscriptions' mails: rendered from text and HTML templates in the subscriber's language,
queued in the outbox in the caller's transaction. Every mail but the confirmation carries the
subscription's one-click unsubscribe link and the RFC 8058 headers."""

from __future__ import annotations

import copy
import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.template.defaultfilters import linebreaksbr, truncatechars
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.html import conditional_escape

from speakout.discussion.forms import INVISIBLE_OR_BIDI
from speakout.discussion.html import is_shipped
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


def render(
    subscription: Subscription, template: str, subject, context: dict, *, dedupe_key: str | None, unsubscribe=True
) -> dict[str, Any]:
    """Render ``subscriptions/email/<template>.txt`` and ``.html``: the arguments of one
    ``queue_mail`` call. ``subject`` may be a callable, so it is translated in the subscriber's
    language."""
    language = subscription.language or for_the_batch("default_language", default_language)
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
        subject = one_line_subject(subject)
    return {
        "to": subscription.email,
        "subject": subject,
        "text": text,
        "html": html,
        "headers": headers,
        "language": language,
        "dedupe_key": dedupe_key,
    }


def one_line_subject(subject) -> str:
    return " ".join(str(subject() if callable(subject) else subject).split())[:500]


# What a reply notification shows of its reply stands in a stencil as a marker: letters and
# digits, which escaping and the templates' filters leave as they are, and which no text can
# hold, being drawn anew by each process.
_MARK = f"speakout{secrets.token_hex(10)}"
_NAME, _BODY, _ID = f"{_MARK}n", f"{_MARK}b", f"{_MARK}i"
BODY_CHARS = 2000  # the templates' truncatechars
TEMPLATES = Path(__file__).resolve().parent / "templates"


def _filled(stencil: tuple[str, str], reply) -> tuple[str, str]:
    """A stencil's text and HTML with the reply's name, text and id where its markers are, each
    as the templates show it: the text's as it is, the HTML's escaped, its line breaks as <br>."""
    text, html = stencil
    body, name, pk = truncatechars(reply.body, BODY_CHARS), reply.author_name, str(reply.pk)
    text = text.replace(_NAME, name).replace(_BODY, body).replace(_ID, pk)
    html = html.replace(_NAME, conditional_escape(name))
    return text, html.replace(_BODY, linebreaksbr(body, autoescape=True)).replace(_ID, pk)


def render_about_reply(
    subscription: Subscription,
    template: str,
    subject,
    reply,
    context: Callable[[Any, str], dict],
    *,
    dedupe_key: str,
) -> dict[str, Any]:
    """``render`` for a mail about ``reply``, whose context ``context(reply, reply_id)`` gives.

    Within a batch (``one_batch``), a subscriber's mails about the replies of one thread differ
    only by what they show of each reply (its writer's name, its text and its id, in
    ``reply_url``): the first two are rendered, then once more with markers in their place (a
    stencil), and if the stencil filled in with each of the two gives both exactly, the others
    are filled in from it instead of rendered (two templates a mail were most of the worker's
    time per reply). A template that shows anything else of the reply makes the two differ from
    the stencil's: every mail is then rendered. So is every mail whose templates a project put in
    place of ours: one could choose by the reply in a way the first two do not show."""
    # Everything else a mail shows comes from the subscription and the thread: read anew for each
    # batch of replies, they name the stencil, so a change made meanwhile makes a new one.
    thread = subscription.thread
    title, url = (thread.title, thread.url) if thread is not None else ("", "")
    shown = (template, subscription.pk, subscription.email, subscription.language, reply.thread_id, title, url)
    key = f"subscriptions:stencil:{shown!r}"
    state: dict[str, Any] = for_the_batch(key, dict)  # a new one each time outside a batch
    if "ours" not in state:
        state["ours"] = all(is_shipped(f"subscriptions/email/{template}.{kind}", TEMPLATES) for kind in ("txt", "html"))
    stencil = state.get("stencil")
    if stencil is not None:
        text, html = _filled(stencil["bodies"], reply)
        with translation.override(stencil["language"]):
            line = one_line_subject(subject)
        mail = stencil["mail"]
        return {
            **mail,
            "subject": line,
            "text": text,
            "html": html,
            "headers": dict(mail["headers"]),
            "dedupe_key": dedupe_key,
        }
    mail = render(subscription, template, subject, context(reply, str(reply.pk)), dedupe_key=dedupe_key)
    rendered = state.setdefault("rendered", [])
    if state["ours"] and len(rendered) < 2:  # the first two are kept, to prove the stencil on
        rendered.append((reply, (mail["text"], mail["html"])))
        if len(rendered) < 2:
            return mail
        marked = copy.copy(reply)
        marked.author_name, marked.body = _NAME, _BODY
        made = render(subscription, template, subject, context(marked, _ID), dedupe_key=None)
        bodies = (made["text"], made["html"])
        if all(_filled(bodies, earlier) == mail_bodies for earlier, mail_bodies in rendered):
            state["stencil"] = {"bodies": bodies, "mail": made, "language": made["language"]}
    return mail


def send(subscription: Subscription, template: str, subject, context: dict, *, dedupe_key: str, unsubscribe=True):
    """Render one mail (see ``render``) and queue it in the current transaction."""
    return queue_mail(
        **render(subscription, template, subject, context, dedupe_key=dedupe_key, unsubscribe=unsubscribe)
    )
