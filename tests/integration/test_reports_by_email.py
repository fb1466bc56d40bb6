"""The report itself by email, end to end through a real SMTP server (aiosmtpd): a newly published
report reaches its lists' instant subscribers whole (text, pictures from our own origin, a
plain-text part), the digests carry it whole too, a reader chooses lists by category, and an
editor previews it, sends a test to themselves, and sends a draft by email only."""

from __future__ import annotations

import re
from datetime import timedelta
from email import message_from_bytes, policy
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from speakout.outbox.models import OutgoingMail
from speakout.outbox.services import send_due_mail
from speakout.subscriptions import services
from speakout.subscriptions.models import Announcement, Subscription
from tests.helpers import make_image, paragraph

from .mail_helpers import NAME, ORIGIN, links_of, one_click, organisation_site

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("outbox_settings")]


@pytest.fixture
def site(settings, site_builder):
    organisation_site(settings, from_email="Housing <news@org.example>", own_host=True)
    return site_builder


def subscriber(email, category="", frequency="instant", *, since=None):
    return Subscription.objects.create(
        email=email,
        kind="posts",
        category=category,
        target=Subscription.target_for("posts", None, category),
        frequency=frequency,
        confirmed_at=since or timezone.now(),
    )


def report_body(site):
    about = site.standard_page("About us")
    picture = make_image("Tenants at the door")
    return [
        {"type": "heading", "value": {"text": "What we found", "level": "h2"}},
        paragraph(
            f'<p>Rents rose <b>40%</b>. See <a linktype="page" id="{about.pk}">who we are</a> and '
            '<a href="https://stats.example/rents">the statistics</a>.</p><ul><li>First point</li></ul>'
        ),
        {"type": "image", "value": {"image": picture.pk, "alt_text": "Tenants at a door", "caption": "March"}},
        {"type": "quote", "value": {"quote": "We will stay.", "attribution": "A tenant"}},
        {"type": "media_link", "value": {"url": "https://video.example/v/1", "title": "The film", "kind": "video"}},
    ]


def received(server):
    return [message_from_bytes(envelope.content, policy=policy.default) for envelope in server.envelopes]


def to(messages, address):
    return [message for message in messages if message["To"] == address]


def check_report_mail(message, report):
    """The whole report, readable as text and as HTML, loading nothing from another origin."""
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    words_of_the_report = ("What we found", "Rents rose", "40%", "First point", "We will stay.", "A tenant")
    for words in (*words_of_the_report, "Tenants at a door"):
        assert words in text, words
    assert "<b>40%</b>" in html and "<li>First point</li>" in html
    assert "https://stats.example/rents" in text, "a link's address is written out in the text part"
    about = re.search(rf'<a href="({re.escape(ORIGIN)}/p-[0-9a-f]+/)"[^>]*>who we are</a>', html)
    assert about and f"who we are <{about.group(1)}>" in text, "internal links are absolute, in both parts"
    assert "https://video.example/v/1" in text and "https://video.example/v/1" in html
    images = [value for tag, attribute, value in links_of(html) if tag == "img"]
    assert len(images) == 1 and images[0].startswith(f"{ORIGIN}/media/"), images
    for tag, attribute, value in links_of(html):
        if tag != "a":
            assert tag == "img" and attribute == "src" and value.startswith(f"{ORIGIN}/"), (tag, attribute, value)
    assert not re.search(r"</?(a|p|div|b|ul|li|img)\b[^>]*>", text), text
    assert NAME in text and NAME in html
    assert not re.search(r"(?i)utm_|track|pixel|beacon", html + text)
    return text, html


def test_a_new_report_reaches_its_lists_whole(site, smtp_server):
    """Publishing mails the report whole to the site-wide and the category's instant lists, not
    to another category's; the daily digest carries it whole the next day; one click unsubscribes."""
    housing, health = site.category("Housing"), site.category("Health")
    subscriber("all@example.net")
    subscriber("housing@example.net", "housing")
    subscriber("health@example.net", "health")
    subscriber("daily@example.net", "housing", "daily", since=timezone.now() - timedelta(days=2))

    report = site.report(
        "Rents up again", standfirst="What tenants told us.", body=report_body(site), categories=[housing]
    )
    assert health not in report.categories.all()
    send_due_mail(until_empty=True)
    messages = received(smtp_server)
    assert sorted(str(m["To"]) for m in messages) == ["all@example.net", "housing@example.net"]
    mail = to(messages, "housing@example.net")[0]
    assert "Rents up again" in str(mail["Subject"])
    text, html = check_report_mail(mail, report)
    assert report.full_url in text and report.full_url in html, "a link to the report and its discussion"
    one_click(mail)
    assert Subscription.objects.get(email="housing@example.net").unsubscribed_at is not None

    assert services.send_digests("daily", now=timezone.now() + timedelta(hours=1)) == 1
    send_due_mail(until_empty=True)
    [digest] = to(received(smtp_server), "daily@example.net")
    check_report_mail(digest, report)
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # Editing and publishing again mails nobody.
    report.title = "Rents up again (corrected)"
    report.save_revision().publish()
    send_due_mail(until_empty=True)
    assert len(smtp_server.envelopes) == 3


@pytest.fixture
def editor(site):
    return get_user_model().objects.create_superuser("editor", "editor@org.example", "pw")


def test_editor_previews_tests_and_sends_a_draft_by_email_only(site, editor, smtp_server):
    """The "Send by email" screen of an unpublished report shows the mail, sends a test to the
    editor alone, then sends the draft to the subscribers without putting it on the site. Publishing
    it later mails nobody again."""
    subscriber("all@example.net")
    report = site.report("Members only briefing", body=report_body(site), live=False)
    admin = Client(HTTP_HOST="news.org.example")
    admin.force_login(editor)
    url = reverse("speakout_report_mail", args=[report.pk])
    edit = admin.get(reverse("wagtailadmin_pages:edit", args=[report.pk]), secure=True)
    assert url in edit.content.decode(), "the report's editor links to the screen"

    page = admin.get(url, secure=True)
    assert page.status_code == 200
    content = page.content.decode()
    assert "New post: Members only briefing" in content and "We will stay." in content
    assert "email only" in content and "1 subscriber would get it" in content

    assert admin.post(url, {"action": "test"}, secure=True).status_code == 302
    send_due_mail(until_empty=True)
    [test] = received(smtp_server)
    assert test["To"] == "editor@org.example" and str(test["Subject"]).startswith("Test: ")
    assert test["List-Unsubscribe"] is None
    check_report_mail(test, report)
    assert not Announcement.objects.exists(), "a test sends nothing to subscribers"

    assert admin.post(url, {"action": "send"}, secure=True).status_code == 302
    send_due_mail(until_empty=True)
    [sent] = to(received(smtp_server), "all@example.net")
    text, html = check_report_mail(sent, report)
    assert "/reports/" not in text and "/reports/" not in html, "an email-only report links to no page"
    one_click(sent)
    announcement = Announcement.objects.get()
    assert announcement.email_only and announcement.url == ""
    assert Client().get(f"/reports/{report.slug}/").status_code == 404, "it is not on the site"

    assert "was sent to its subscribers" in admin.get(url, secure=True).content.decode()
    assert admin.post(url, {"action": "send"}, secure=True).status_code == 302
    report.refresh_from_db()
    report.save_revision().publish()
    send_due_mail(until_empty=True)
    assert len(smtp_server.envelopes) == 2, "mailed once, ever"


def test_send_screen_needs_edit_rights(site, smtp_server, client):
    report = site.report("Public report")
    reader = get_user_model().objects.create_user("reader", "reader@example.net", "pw")
    client.force_login(reader)
    response = client.post(reverse("speakout_report_mail", args=[report.pk]), {"action": "send"})
    assert response.status_code in (302, 403)
    assert not OutgoingMail.objects.filter(subject__startswith="Test").exists()
    assert Announcement.objects.count() == 1  # its own publication, nothing more


@pytest.mark.parametrize("published", [True, False], ids=["live", "draft"])
def test_a_private_report_is_not_sent_from_the_screen(site, editor, published):
    """A report behind a view restriction, live or a draft (by email only a draft would go whole
    to every subscriber, past the password its readers need): the screen says it is private and
    sending it mails nobody."""
    subscriber("all@example.net")
    report = site.report("Board minutes", private=True, live=False)
    if published:
        report.save_revision().publish()
    admin = Client(HTTP_HOST="news.org.example")
    admin.force_login(editor)
    url = reverse("speakout_report_mail", args=[report.pk])
    assert "This report is private" in admin.get(url, secure=True).content.decode()
    assert admin.post(url, {"action": "send"}, secure=True).status_code == 302
    assert "A private report is not sent by email." in admin.get(url, secure=True).content.decode()
    assert not Announcement.objects.exists()
    assert not OutgoingMail.objects.filter(to="all@example.net").exists()


def test_a_reader_chooses_lists_by_category(site, smtp_server):
    """The "New reports by email" page offers every category; each chosen one is its own list,
    and one mail naming them all confirms them together."""
    site.category("Housing")
    site.category("Health")
    site.category("Climate")
    reader = Client(HTTP_HOST="news.org.example")
    page = reader.get(reverse("subscriptions:posts"), secure=True)
    content = page.content.decode()
    assert "Housing" in content and "Health" in content and "Every new report" in content
    token = re.search(r'name="form_token" value="([^"]+)"', content).group(1)
    answer = reader.post(
        reverse("subscriptions:posts"),
        {"email": "reader@example.net", "lists": ["housing", "health"], "frequency": "weekly", "form_token": token},
        secure=True,
        HTTP_ORIGIN=ORIGIN,
        HTTP_SEC_FETCH_SITE="same-origin",
    )
    assert answer.status_code == 200
    rows = Subscription.objects.filter(email="reader@example.net").order_by("category")
    assert [(row.category, row.frequency, row.confirmed_at) for row in rows] == [
        ("health", "weekly", None),
        ("housing", "weekly", None),
    ]
    send_due_mail(until_empty=True)
    [confirmation] = received(smtp_server)
    text = confirmation.get_body(("plain",)).get_content()
    assert "“Housing”" in text and "“Health”" in text and "Climate" not in text
    confirm = urlsplit(re.search(r"https://\S+/subscriptions/confirm/\S+/", text).group(0)).path
    shown = reader.get(confirm, secure=True).content.decode()
    assert "“Housing”" in shown and "“Health”" in shown
    assert reader.post(confirm, secure=True).status_code == 200
    assert all(row.confirmed_at is not None for row in Subscription.objects.filter(email="reader@example.net"))

    # A link confirms rows of its own address only, and only with their secrets.
    from speakout.subscriptions import tokens

    mine = Subscription.objects.filter(email="reader@example.net").first()
    other = services.open_subscription("someone@example.net", kind="posts", category="climate")
    assert tokens.read_together(tokens.make_token(mine, tokens.CONFIRM, together=[other]), mine) == []
    guessed = Subscription(pk=other.pk, secret="guess")
    assert tokens.read_together(tokens.make_token(mine, tokens.CONFIRM, together=[guessed]), mine) == []


def test_tracking_cannot_be_switched_on():
    """No setting turns on open or click tracking: there is nothing to configure."""
    assert not [name for name in dir(django_settings) if "TRACK" in name.upper() and name.startswith("SPEAKOUT")]


def test_a_signed_in_reader_picks_a_category_on_their_page(site):
    """On /subscriptions/mine/ a reader with a verified address joins a category's list at once
    (no confirmation mail: the address is proved), and the page names the category."""
    from allauth.account.models import EmailAddress

    site.category("Housing")
    user = get_user_model().objects.create_user("rey", "rey@example.org", "x")
    EmailAddress.objects.create(user=user, email="rey@example.org", verified=True, primary=True)
    client = Client()
    client.force_login(user)
    url = reverse("subscriptions:mine")
    assert 'value="housing"' in client.get(url).content.decode()
    client.post(url, {"action": "follow_posts", "category": "housing", "frequency": "weekly"})
    client.post(url, {"action": "follow_posts", "category": "no-such-list", "frequency": "weekly"})
    [subscription] = Subscription.objects.filter(email="rey@example.org")
    assert (subscription.category, subscription.frequency) == ("housing", "weekly")
    assert subscription.confirmed_at is not None and not OutgoingMail.objects.exists()
    assert "new posts in the category “Housing”" in client.get(url).content.decode()


def test_a_report_whose_content_cannot_be_rendered_is_still_published_and_announced(site, monkeypatch):
    """A broken picture must not stop a publication: the mail falls back to title and link."""
    from speakout.publishing.models import ReportPage

    def broken(self):
        raise OSError("the picture's file is gone")

    monkeypatch.setattr(ReportPage, "mail_parts", broken)
    subscriber("all@example.net")
    report = site.report("Still published")
    assert report.live
    [mail] = OutgoingMail.objects.filter(to="all@example.net")
    assert "Still published" in mail.text_body and report.full_url in mail.text_body


def test_a_test_goes_only_to_an_address_the_editor_verified(site, smtp_server):
    """The account's address is not proof: an editor whose address was never verified gets no
    test, and is told why; once a verified address exists, the test goes there and nowhere else."""
    from allauth.account.models import EmailAddress

    editor = get_user_model().objects.create_user("writer", "victim@example.net", "pw", is_staff=True)
    editor.is_superuser = True  # edit rights on the report, without the superuser's vouched address
    editor.save()
    assert not EmailAddress.objects.filter(user=editor, verified=True).exists()
    report = site.report("Unverified editor", live=False)
    admin = Client(HTTP_HOST="news.org.example")
    admin.force_login(editor)
    url = reverse("speakout_report_mail", args=[report.pk])

    assert "victim@example.net" not in admin.get(url, secure=True).content.decode()
    response = admin.post(url, {"action": "test"}, secure=True, follow=True)
    assert "not verified" in response.content.decode()
    send_due_mail(until_empty=True)
    assert smtp_server.envelopes == []
    assert not OutgoingMail.objects.exists()

    EmailAddress.objects.create(user=editor, email="proved@example.net", verified=True, primary=True)
    assert admin.post(url, {"action": "test"}, secure=True).status_code == 302
    send_due_mail(until_empty=True)
    assert [envelope.rcpt_tos for envelope in smtp_server.envelopes] == [["proved@example.net"]]
