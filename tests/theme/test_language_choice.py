"""A reader's language is theirs: the site's default chosen in the admin, the language kept with a
reply, a subscription and an account, and the mail each of them gets going out in it."""

from __future__ import annotations

import re
import time

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import translation
from wagtail.users.models import UserProfile

from speakout.discussion.forms import issue_form_token
from speakout.discussion.models import Reply
from speakout.discussion.services import Author, get_or_create_thread, submit_reply
from speakout.outbox.models import OutgoingMail
from speakout.safety.models import RemovalNotice
from speakout.subscriptions import mails
from speakout.subscriptions import services as subscriptions
from speakout.subscriptions.models import Subscription
from speakout.theme.languages import default_language
from speakout.theme.models import LanguageSettings

pytestmark = pytest.mark.django_db


def document_language(html: str) -> str:
    return re.search(r'<html lang="([^"]+)"', html).group(1)


def choose_default(code: str) -> None:
    settings_row = LanguageSettings.objects.first() or LanguageSettings()
    settings_row.default_language = code
    settings_row.full_clean()
    settings_row.save()


@pytest.mark.parametrize(
    "accept_language, cookie, expected",
    [
        ("de-DE,de;q=0.9", None, "fr"),  # names no language the site offers: the admin's default
        ("", None, "fr"),
        ("en-GB,en;q=0.9", None, "en"),  # asked for English: gets it, although it is SPEAKOUT_LANGUAGE
        ("de", "es", "es"),  # the footer's cookie first
    ],
)
def test_the_admins_default_language_serves_readers_who_name_none(
    client, site_builder, settings, accept_language, cookie, expected
):
    settings.LANGUAGE_CODE = "en"
    site_builder.report("Uno")
    choose_default("fr")
    if cookie:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = cookie

    response = client.get("/", HTTP_ACCEPT_LANGUAGE=accept_language)

    assert document_language(response.content.decode()) == expected
    assert response["Content-Language"] == expected


def test_changing_the_default_language_retires_cached_pages(client, site_builder, settings):
    settings.LANGUAGE_CODE = "en"
    site_builder.report("Uno")
    assert document_language(client.get("/", HTTP_ACCEPT_LANGUAGE="de").content.decode()) == "en"
    assert document_language(client.get("/", HTTP_ACCEPT_LANGUAGE="de").content.decode()) == "en"

    choose_default("ar")

    html = client.get("/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert '<html lang="ar" dir="rtl">' in html


def test_pages_read_the_default_language_from_the_cache_only(settings):
    from django.core.cache import cache

    from speakout.theme.languages import refill_default_language

    settings.LANGUAGE_CODE = "en"
    choose_default("es")
    cache.clear()  # as after a Redis restart

    assert default_language(read_database=False) == "en", "a request never queries for it"
    assert default_language() == "es", "mail reads the database when the cache lost it"
    cache.clear()
    assert refill_default_language() == "es"  # the worker's job puts it back
    assert default_language(read_database=False) == "es"


def test_the_default_language_must_be_one_the_site_offers():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        choose_default("de")
    choose_default("")
    assert default_language() == "en"


def test_mail_to_someone_who_never_chose_goes_in_the_admins_default(site_builder):
    choose_default("pt-br")
    subscription = Subscription.objects.create(
        email="someone@example.org", kind=Subscription.Kind.POSTS, target="posts:", language=""
    )

    mail = mails.render(subscription, "confirm", "subject", {"confirm_url": "https://x/", "days": 7}, dedupe_key="k")

    assert mail["language"] == "pt-br"
    assert '<html lang="pt-br" dir="ltr">' in mail["html"]
    assert "Alguém (provavelmente você)" in mail["text"]


def test_a_reply_keeps_its_writers_language_for_the_mail_about_it(db):
    thread = get_or_create_thread("report-ar", url="http://testserver/reports/ar/", title="تقرير")
    data = {
        "thread": thread.key,
        "name": "Noor",
        "email": "noor@example.org",
        "body": "أشكركم على هذا التقرير.",
        "form_token": issue_form_token(thread.key, issued_at=time.time() - 10),
        "notify_outcome": True,
    }
    with translation.override("ar"):  # as LocaleMiddleware leaves it for an Arabic reader
        result = submit_reply(thread=thread, data=data, author=Author(client_hash="c1", guest_token="g1"))
    assert result.ok, result
    reply = Reply.objects.get(body=data["body"])
    assert reply.language == "ar"

    notice = RemovalNotice.objects.first()
    assert notice is not None, "the demo notices come with the safety migration"
    confirmation = OutgoingMail.objects.get(to=reply.commenter.email)
    assert confirmation.language == "ar"
    subscription = Subscription.objects.get(reply=reply)
    assert subscriptions.confirm(subscription)
    assert subscriptions.send_removal_notice(reply, notice.message)

    mail = OutgoingMail.objects.exclude(pk=confirmation.pk).get(to=reply.commenter.email)
    assert mail.language == "ar"
    assert "مرحبًا" in mail.text_body and "Hello" not in mail.text_body


def test_a_signed_in_readers_choice_is_kept_with_their_account(site_builder):
    user = get_user_model().objects.create_user("noor", "noor@example.org", "a long password 123")
    client = Client()
    client.force_login(user)

    response = client.post("/i18n/setlang/", {"language": "ar", "next": "/"})

    assert response.status_code == 302
    assert client.cookies["django_language"].value == "ar"
    assert UserProfile.get_for_user(user).preferred_language == "ar"

    from speakout.publishing.alerts import language_of

    assert language_of(user) == "ar", "moderator mail follows the account's language"
