"""A reply notification queued by the worker's batch is the mail its templates render for it
alone: the same subject, text, HTML and headers, with links signed as ``django.core.signing``
signs them and resolved as ``reverse()`` resolves them, however many mails the batch holds."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core import signing
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from speakout.outbox.models import OutgoingMail
from speakout.outbox.sender import one_batch, organisation_name
from speakout.subscriptions import mails, services, tokens
from speakout.subscriptions.app_settings import app_settings
from speakout.theme.languages import default_language

pytestmark = pytest.mark.django_db

NOW = 1_800_000_000.0


def expected(subscription, reply) -> dict:
    """The notification as rendered for one subscriber on its own, every step spelled out."""
    thread = reply.thread
    base = app_settings.BASE_URL
    language = subscription.language or default_language()
    with translation.override(language):
        unsubscribe = base + reverse(
            "subscriptions:unsubscribe",
            args=[signing.dumps({"id": subscription.pk, "s": subscription.secret}, salt=tokens.UNSUBSCRIBE)],
        )
        address_token = signing.dumps({"e": subscription.email}, salt=tokens.UNSUBSCRIBE_ALL)
        everything = base + reverse("subscriptions:unsubscribe_all", args=[address_token])
        context = {
            "subscription": subscription,
            "thread_title": mails.thread_title(thread),
            "site_name": organisation_name(),
            "base_url": base,
            "language": language,
            "reply": reply,
            "thread": thread,
            "reply_url": f"{thread.url}#reply-{reply.pk}",
            "unsubscribe_url": unsubscribe,
            "unsubscribe_all_url": everything,
        }
        return {
            "subject": f"New reply to “{mails.thread_title(thread)}”",
            "text_body": render_to_string("subscriptions/email/reply.txt", context),
            "html_body": render_to_string("subscriptions/email/reply.html", context),
            "headers": {"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
            "language": language,
        }


def test_a_batch_of_notifications_is_byte_for_byte_what_each_renders_alone(thread, post_reply, subscribe):
    ada = subscribe("ada@example.org", thread=thread)
    bob = subscribe("bob@example.org", thread=thread, language="fr")
    replies = [post_reply(thread, email=f"writer-{n}@example.org", body=f"Reply <{n}> & more").reply for n in range(3)]
    with mock.patch("time.time", return_value=NOW):
        assert services.send_due_reply_notifications() == 6
        for reply in replies:
            for subscription in (ada, bob):
                mail = OutgoingMail.objects.get(dedupe_key=f"subscriptions:reply:{reply.pk}:{subscription.pk}")
                want = expected(subscription, reply)
                if subscription.language == "fr":
                    want["subject"] = mail.subject  # translated; the bodies are what this test compares
                got = {key: getattr(mail, key) for key in want}
                assert got == want


def test_the_links_of_a_batch_unsubscribe_their_own_row(thread, subscribe):
    ada = subscribe("ada@example.org", thread=thread)
    bob = subscribe("bob@example.org", thread=thread)
    with one_batch():
        links = {row.pk: (mails.unsubscribe_url(row), mails.unsubscribe_all_url(row.email)) for row in (ada, bob, ada)}
    for row in (ada, bob):
        one, every = links[row.pk]
        assert tokens.read_token(one.rstrip("/").rpartition("/")[2], tokens.UNSUBSCRIBE) == row
        assert tokens.read_address_token(every.rstrip("/").rpartition("/")[2]) == row.email
    # Bob's row under the signature of Ada's link.
    ada_token, bob_token = (links[row.pk][0].rstrip("/").rpartition("/")[2] for row in (ada, bob))
    forged = bob_token.partition(":")[0] + ":" + ada_token.partition(":")[2]
    assert forged not in (ada_token, bob_token)
    assert tokens.read_token(forged, tokens.UNSUBSCRIBE) is None


@pytest.mark.parametrize("token", ["plain-token:1x:abc_DEF", "with space", "per%cent", "ünï"])
def test_a_link_is_what_reverse_makes_of_its_token(token):
    with one_batch():
        mails.link("subscriptions:unsubscribe", "first")  # the batch's pattern, resolved once
        assert mails.link("subscriptions:unsubscribe", token) == app_settings.BASE_URL + reverse(
            "subscriptions:unsubscribe", args=[token]
        )
