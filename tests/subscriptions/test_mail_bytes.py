"""A reply notification queued by the worker's batch is the mail its templates render for it
alone: the same subject, text, HTML and headers, with links signed as ``django.core.signing``
signs them and resolved as ``reverse()`` resolves them, however many mails the batch holds."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest
from django.core import signing
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from speakout.discussion.models import Reply, Thread
from speakout.outbox.models import OutgoingMail
from speakout.outbox.sender import one_batch, organisation_name
from speakout.subscriptions import mails, services, tokens
from speakout.subscriptions.app_settings import app_settings
from speakout.subscriptions.models import Subscription
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


# Replies whose name and text the templates escape, break into lines, cut at 2,000 characters or
# quote inside a translated sentence: each notification must be what it renders alone, whether it
# was rendered or filled in from the batch's stencil.
AWKWARD = [
    ("Ann <b>&</b> “Co” 100%", "First line\nsecond <i>line</i> & more"),
    ("Bob %(name)s", "A reply with\r\n\r\nparagraphs, {{ braces }} and {% tags %}"),
    ("Chloé", "long " * 600 + "end"),  # past 2,000 characters
    ('D\'Arcy "quoted"', "<script>alert(1)</script> &amp; done"),
    ("Eve", "short"),
]


def test_every_notification_of_a_batch_is_what_it_renders_alone_however_awkward(
    thread, post_reply, subscribe, monkeypatch
):
    ada = subscribe("ada@example.org", thread=thread)
    replies = [
        post_reply(thread, name=name, email=f"writer-{n}@example.org", body=body).reply
        for n, (name, body) in enumerate(AWKWARD)
    ]
    rendered = renders_counted(monkeypatch)
    with mock.patch("time.time", return_value=NOW):
        assert services.send_due_reply_notifications() == len(replies)
        assert len(rendered) == 3 * 2  # the last three filled in from the stencil
        for reply in replies:
            mail = OutgoingMail.objects.get(dedupe_key=f"subscriptions:reply:{reply.pk}:{ada.pk}")
            want = expected(ada, reply)
            assert {key: getattr(mail, key) for key in want} == want


def renders_counted(monkeypatch) -> list[str]:
    rendered: list[str] = []
    real = mails.render_to_string

    def counting(name, context=None, *args, **kwargs):
        rendered.append(name)
        return real(name, context, *args, **kwargs)

    monkeypatch.setattr(mails, "render_to_string", counting)
    return rendered


def test_after_two_notifications_of_a_thread_a_subscriber_s_are_filled_in(thread, post_reply, subscribe, monkeypatch):
    subscribe("ada@example.org", thread=thread)
    for n in range(6):
        post_reply(thread, email=f"writer-{n}@example.org", body=f"Reply {n}")
    rendered = renders_counted(monkeypatch)
    assert services.send_due_reply_notifications() == 6
    # Two mails rendered, the stencil, then four filled in: a text and an HTML template each.
    assert len(rendered) == 3 * 2


def test_a_template_showing_more_of_the_reply_has_every_mail_rendered(
    thread, post_reply, subscribe, monkeypatch, settings
):
    ada = subscribe("ada@example.org", thread=thread)
    replies = [post_reply(thread, email=f"writer-{n}@example.org", body=f"Reply {n}").reply for n in range(4)]
    # The reply's date shown, beside what the stencil marks: the stencil would give every mail the
    # date of the reply it was made from.
    source = Path(settings.BASE_DIR) / "speakout/subscriptions/templates/subscriptions/email/reply.txt"
    changed = source.read_text().replace(
        "{% endblock %}", "{{ reply.created_at|date:'c' }} {{ reply.pk }}{% endblock %}", 1
    )
    settings.TEMPLATES = [
        {
            **settings.TEMPLATES[0],
            "APP_DIRS": False,
            "OPTIONS": {
                **settings.TEMPLATES[0]["OPTIONS"],
                "loaders": [
                    ("django.template.loaders.locmem.Loader", {"subscriptions/email/reply.txt": changed}),
                    "django.template.loaders.app_directories.Loader",
                ],
            },
        }
    ]
    # Taken for ours, so that the stencil is tried: its check on the first two turns it down.
    monkeypatch.setattr(mails, "is_shipped", lambda name, templates: True)
    rendered = renders_counted(monkeypatch)
    assert services.send_due_reply_notifications() == 4
    assert len(rendered) == 4 * 2 + 2  # every mail, and the stencil that was turned down
    for reply in replies:
        mail = OutgoingMail.objects.get(dedupe_key=f"subscriptions:reply:{reply.pk}:{ada.pk}")
        assert f"{reply.created_at:%Y-%m-%d}" in mail.text_body and f" {reply.pk}" in mail.text_body


def with_template(settings, name: str, text: str) -> None:
    """``name`` replaced by ``text``, as a project's own template would be."""
    settings.TEMPLATES = [
        {
            **settings.TEMPLATES[0],
            "APP_DIRS": False,
            "OPTIONS": {
                **settings.TEMPLATES[0]["OPTIONS"],
                "loaders": [
                    ("django.template.loaders.locmem.Loader", {name: text}),
                    "django.template.loaders.app_directories.Loader",
                ],
            },
        }
    ]


def test_a_project_s_own_template_is_rendered_for_every_mail(thread, post_reply, subscribe, monkeypatch, settings):
    """A template of a project's own may choose by the reply where the first two replies do not
    show it (here, by its length): no stencil is made from it."""
    ada = subscribe("ada@example.org", thread=thread)
    bodies = ["Short one.", "Short two.", "A much longer reply, well past the forty characters the template counts."]
    replies = [post_reply(thread, email=f"writer-{n}@example.org", body=body).reply for n, body in enumerate(bodies)]
    source = Path(settings.BASE_DIR) / "speakout/subscriptions/templates/subscriptions/email/reply.txt"
    chooses = "{% if reply.body|length > 40 %}LONG{% else %}SHORT{% endif %}{% endblock %}"
    with_template(settings, "subscriptions/email/reply.txt", source.read_text().replace("{% endblock %}", chooses, 1))
    rendered = renders_counted(monkeypatch)
    assert services.send_due_reply_notifications() == 3
    assert len(rendered) == 3 * 2
    for reply, kind in zip(replies, ["SHORT", "SHORT", "LONG"], strict=True):
        mail = OutgoingMail.objects.get(dedupe_key=f"subscriptions:reply:{reply.pk}:{ada.pk}")
        assert kind in mail.text_body


def test_a_title_changed_between_two_batches_of_a_run_shows_in_the_second(thread, post_reply, subscribe):
    ada = subscribe("ada@example.org", thread=thread)
    for n in range(3):
        post_reply(thread, email=f"writer-{n}@example.org", body=f"Reply {n}")
    with mock.patch("time.time", return_value=NOW), one_batch():
        assert services._announce_batch(100) == (3, 3)  # its stencil made
        Thread.objects.filter(pk=thread.pk).update(title="Another title")
        later = [post_reply(thread, email=f"later-{n}@example.org", body=f"Later {n}").reply for n in range(3)]
        assert services._announce_batch(100) == (3, 3)
        ada = Subscription.objects.get(pk=ada.pk)
        for reply in later:
            reply = Reply.objects.select_related("thread").get(pk=reply.pk)
            mail = OutgoingMail.objects.get(dedupe_key=f"subscriptions:reply:{reply.pk}:{ada.pk}")
            want = expected(ada, reply)
            assert "Another title" in want["text_body"]
            assert {key: getattr(mail, key) for key in want} == want
