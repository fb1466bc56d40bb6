"""Every kind of mail the site sends, rendered, sent through a real SMTP server (aiosmtpd) and
read back: it names the organisation (as the admin calls it) and comes from the sender the admin
set, in the reader's language, in the one layout, with a plain-text part, no remote image and no
tracking; subscription mails carry RFC 8058 one-click unsubscribe headers that work."""

from __future__ import annotations

import re
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.test import Client
from django.test.signals import template_rendered
from django.urls import reverse
from django.utils import timezone

import speakout
from speakout.contact.models import ContactMessage, ContactPage
from speakout.contact.services import queue_message_mails
from speakout.discussion.models import DiscussionSettings, Flag, Reply
from speakout.discussion.services import set_status
from speakout.outbox.models import OutgoingMail, SenderSettings
from speakout.outbox.services import send_due_mail
from speakout.privacy import services as privacy
from speakout.publishing import alerts
from speakout.safety.models import RemovalNotice
from speakout.subscriptions import services as subscriptions
from speakout.subscriptions.models import Subscription
from tests.discussion.helpers import get_or_create_thread
from tests.subscriptions.helpers import HOLD

from .mail_helpers import NAME, ORIGIN, links_of, one_click, organisation_site

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("outbox_settings")]

SENDER = "Housing Action news"


@pytest.fixture
def site(settings, site_builder):
    organisation_site(settings, from_email="Speakout <speakout@org.example>")
    SenderSettings.objects.create(pk=1, name=SENDER, address="news@org.example")
    return site_builder


TRACKING = re.compile(r"(?i)utm_|mc_eid|mc_cid|track|pixel|beacon|open\.gif|/o/|/click")


def check_layout_mail(message, *, language: str = "en"):
    """What every mail of the site must be; returns the text and HTML parts."""
    assert message["From"].addresses[0].display_name == SENDER
    assert message["From"].addresses[0].addr_spec == "news@org.example"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert NAME in text and NAME in html, "names the organisation"
    assert "Speakout" not in text + html + str(message["Subject"]) + str(message["From"])
    assert "127.0.0.1" not in text + html and "localhost" not in text + html
    # A plain-text part that is plain text: no markup, and every link of the HTML part is in it.
    assert not re.search(r"</?(a|p|div|br|html|body|span|strong|em|ul|li|h\d)\b[^>]*>", text), text
    for tag, attribute, url in links_of(html):
        assert tag == "a" and attribute == "href", f"a remote or embedded resource: <{tag} {attribute}={url}>"
        parts = urlsplit(url)
        assert parts.scheme == "https" and parts.netloc == "news.org.example", f"a link off the site: {url}"
        assert not TRACKING.search(url) and not any(TRACKING.search(key) for key, _v in parse_qsl(parts.query)), url
        assert url.split("#")[0] in text or url.split("#")[0].rstrip("/") in text, f"{url} missing from the text part"
    assert "<img" not in html.lower() and "@import" not in html and "<link" not in html.lower()
    assert "<script" not in html.lower()
    assert f'lang="{language}"' in html
    assert message["Content-Language"] == language
    for header in message.keys():
        assert not TRACKING.search(header), f"a tracking header: {header}"
    return text, html


def mail_templates() -> set[str]:
    """Every mail template of the site's own apps (partials start with "_")."""
    root = Path(speakout.__file__).parent
    return {
        path.relative_to(path.parents[2]).as_posix()
        for path in root.glob("*/templates/*/email/*.html")
        if not path.name.startswith("_")
    }


def test_every_mail_kind(site, smtp_server, post_reply, settings):
    """Each kind is produced the way the site produces it, then sent and checked."""
    rendered: set[str] = set()

    def record(sender, template, context, **kwargs):
        rendered.add(template.name)

    template_rendered.connect(record)
    try:
        thread = get_or_create_thread("report-mail", url=f"{ORIGIN}/reports/mail/", title="Rent strike diary")
        now = timezone.now()

        # Subscriptions: a confirmation (not a subscription yet), a reply, a new post, a digest.
        subscriptions.request_subscription("conf@example.net", kind="posts", language="fr")
        Subscription.objects.create(
            email="follower@example.net",
            kind="thread",
            thread=thread,
            target=Subscription.target_for("thread", thread),
            confirmed_at=now,
            language="es",
        )
        reply = post_reply(thread, email="writer@example.net", name="Writer", body="We hold the line.").reply
        subscriptions.send_due_reply_notifications()
        Subscription.objects.create(
            email="instant@example.net", kind="posts", target="posts:", confirmed_at=now, language="en"
        )
        Subscription.objects.create(
            email="digest@example.net",
            kind="posts",
            target="posts:",
            frequency="daily",
            confirmed_at=now - timedelta(days=2),
        )
        subscriptions.announce_post(
            "report:1", title="Rents up again", url=f"{ORIGIN}/reports/rents/", summary="What we found."
        )
        subscriptions.send_digests("daily")

        # Contact: the message to the organisation and the sender's copy.
        page = site.home.add_child(
            instance=ContactPage(title="Contact", slug="contact", recipients="team@org.example", thank_you="<p>Ok</p>")
        )
        contact = ContactMessage.objects.create(page=page, name="Ada", email="ada@example.net", message="Hi there")
        queue_message_mails(
            page, contact, inbox_url=f"{ORIGIN}/admin/contact/", site_name=NAME, copy_to="ada@example.net"
        )

        # Privacy: the manage link, in the language it was asked in.
        request = privacy.request_manage_link("writer@example.net", language="pt-br")
        privacy.send_manage_link(request.pk)

        # About one's own reply (the writer asked, in Arabic, at an address proved): an answer,
        # "your reply is now published", and the kind removal notice a moderator chose.
        def wish(email, kind, about, language="ar"):
            return Subscription.objects.create(
                email=email,
                kind=kind,
                thread=about.thread,
                reply=about,
                target=Subscription.target_for(kind, reply=about),
                confirmed_at=now,
                language=language,
            )

        other = get_or_create_thread("report-mail-2", url=f"{ORIGIN}/reports/mail-2/", title="Tenants' assembly")
        asked = post_reply(other, email="asker@example.net", name="Asker", body="Who comes on Monday?").reply
        wish("asker@example.net", "answers", asked)
        post_reply(other, parent=asked.pk, email="answerer@example.net", name="Answerer", body="We all do.")
        patient = post_reply(other, email="patient@example.net", name="Patient", body="Wait.", checks=HOLD).reply
        wish("patient@example.net", "outcome", patient, language="en")
        set_status(patient, Reply.Status.APPROVED)
        subscriptions.send_due_reply_notifications()
        Reply.objects.filter(pk=reply.pk).update(language="ar")
        reply.refresh_from_db()
        wish("writer@example.net", "outcome", reply)
        notice = RemovalNotice.objects.create(title="Off topic", message="Thank you; this one is off topic.")
        set_status(reply, Reply.Status.TRASH, notice=notice.message)
        set_status(reply, Reply.Status.APPROVED)  # back, for the moderators' mails below

        # Moderators: held, reported, pile-on, and the daily summary.
        get_user_model().objects.create_superuser("mod", "mod@org.example", "pw")
        held = post_reply(thread, email="held@example.net", body="Hold me").reply
        Reply.objects.filter(pk=held.pk).update(status=Reply.Status.PENDING)
        held.refresh_from_db()
        alerts.on_reply_posted(Reply, reply=held, outcome=None)
        flag = Flag.objects.create(reply=reply, reason=Flag.Reason.OTHER, note="Please look")
        alerts.on_reply_flagged(Reply, reply=reply, flag=flag)
        alerts.on_pile_on(Reply, reply=held, target=reply, count=5, minutes=10)
        rules = DiscussionSettings.load()
        rules.moderator_alerts = DiscussionSettings.ModeratorAlerts.DAILY
        rules.save()
        alerts.send_daily_summaries()

        # Accounts (allauth): the sign-up confirmation and a password reset.
        browser = Client(HTTP_HOST="news.org.example")
        browser.post(
            reverse("account_signup"),
            {
                "username": "heron",
                "email": "maya@example.net",
                "password1": "rivers run 7 seas",
                "password2": "rivers run 7 seas",
            },
            secure=True,
        )
        browser.post(reverse("account_reset_password"), {"email": "mod@org.example"}, secure=True)
    finally:
        template_rendered.disconnect(record)

    assert not OutgoingMail.objects.exclude(status="pending").exists()
    queued = OutgoingMail.objects.count()
    send_due_mail(until_empty=True)
    assert OutgoingMail.objects.filter(status="sent").count() == queued
    messages = [message_from_bytes(envelope.content, policy=policy.default) for envelope in smtp_server.envelopes]
    by_subject = {str(message["Subject"]): message for message in messages}
    assert len(messages) == queued == 16, sorted(by_subject.keys())

    def mail(to, contains=""):
        [found] = [m for m in messages if m["To"] == to and contains in str(m["Subject"])]
        return found

    # Every mail template of the site was used, so a new kind cannot skip this test.
    missing = {name for name in mail_templates() if name not in rendered}
    assert not missing, f"mail templates no test renders: {missing}"

    languages = {
        "conf@example.net": "fr",
        "follower@example.net": "es",
        "writer@example.net": "pt-br",
        "asker@example.net": "ar",
    }
    for message in messages:
        to = str(message["To"])
        language = languages.get(to, "en")
        if to == "writer@example.net" and "Seu link" not in str(message["Subject"]):
            language = "ar"  # the removal notice, in the language the writer asked in
        check_layout_mail(message, language=language)

    # Subscription mails carry working one-click unsubscribe headers; the confirmation does not.
    assert mail("conf@example.net")["List-Unsubscribe"] is None
    for address in ("follower@example.net", "instant@example.net", "digest@example.net"):
        one_click(mail(address))
        assert Subscription.objects.get(email=address).unsubscribed_at is not None
    for address, words in (("asker@example.net", "Answerer"), ("patient@example.net", "published")):
        one_click(mail(address, words))
        assert Subscription.objects.filter(email=address, unsubscribed_at__isnull=False).count() == 1
    arabic = [m for m in messages if m["Content-Language"] == "ar"]
    assert len(arabic) == 2 and all('dir="rtl"' in m.get_body(("html",)).get_content() for m in arabic)


def test_sender_address_must_be_at_the_configured_domain(settings):
    """The admin may choose the sender's address only within SPEAKOUT_EMAIL_FROM's domain; an
    address saved before that setting changed is not used."""
    settings.DEFAULT_FROM_EMAIL = "Speakout <speakout@org.example>"
    with pytest.raises(ValidationError) as error:
        SenderSettings(name="Us", address="news@elsewhere.example").full_clean()
    assert "org.example" in str(error.value)
    SenderSettings(name="Us", address="NEWS@Org.Example").full_clean()
    SenderSettings.objects.create(pk=1, name="Us", address="news@org.example")
    from speakout.outbox.sender import sender_address

    assert sender_address() == "Us <news@org.example>"
    settings.DEFAULT_FROM_EMAIL = "Speakout <speakout@moved.example>"
    assert sender_address() == "Us <speakout@moved.example>"


def test_the_admin_sets_the_sender(admin_client, settings):
    """Settings → Mail sender saves a name and an address, and refuses one at another domain."""
    settings.DEFAULT_FROM_EMAIL = "Speakout <speakout@org.example>"
    url = reverse("speakout_outbox:sender")
    page = admin_client.get(url)
    assert page.status_code == 200 and b"org.example" in page.content
    refused = admin_client.post(url, {"name": "Us", "address": "us@gmail.example"})
    assert refused.status_code == 200 and b"@org.example" in refused.content
    assert not SenderSettings.objects.exists()
    saved = admin_client.post(url, {"name": "Housing Action news", "address": "news@org.example"})
    assert saved.status_code == 302
    assert SenderSettings.load().address == "news@org.example"
