"""The contact page: the form, storing, queueing mail in one transaction, the spam defence."""

from __future__ import annotations

import re
import time

import pytest
from django.test import override_settings

from speakout.contact.models import ContactMessage
from speakout.contact.services import form_key, subject_for
from speakout.discussion.forms import issue_form_token
from speakout.discussion.models import DiscussionSettings
from speakout.outbox.models import OutgoingMail

pytestmark = pytest.mark.django_db


def test_page_renders_the_form_without_the_recipient_addresses(client, contact_page):
    response = client.get(contact_page.url)
    html = response.content.decode()
    assert response.status_code == 200
    for name in ("name", "email", "topic", "message", "homepage", "form_token"):
        assert f'name="{name}"' in html
    assert 'name="send_copy"' not in html, "a copy goes to a verified account address only"
    assert "Write to us." in html
    assert '<option value="Press">Press</option>' in html
    assert "org.example" not in html, "the organisation's addresses are never printed"


def test_a_sent_message_is_stored_and_mailed_to_each_recipient(client, contact_page, post_data, django_user_model):
    from allauth.account.models import EmailAddress

    ada = django_user_model.objects.create_user("ada", "ada@example.net", "pw-long-enough-1")
    EmailAddress.objects.create(user=ada, email="ada@example.net", verified=True, primary=True)
    client.force_login(ada)
    response = client.post(contact_page.url, post_data(send_copy="on"))
    assert response.status_code == 303
    assert response["Location"].endswith(f"{contact_page.url}?sent=1")

    message = ContactMessage.objects.get()
    assert (message.name, message.email, message.topic, message.page_id) == (
        "Ada",
        "ada@example.net",
        "Press",
        contact_page.pk,
    )
    assert message.copy_requested and not message.is_spam and message.read_at is None and message.client_hash

    mails = {mail.to: mail for mail in OutgoingMail.objects.all()}
    assert set(mails) == {"team@org.example", "board@org.example", "ada@example.net"}
    for address in ("team@org.example", "board@org.example"):
        assert mails[address].headers == {"Reply-To": "ada@example.net"}
        assert mails[address].subject == "Contact: Press"
        assert "talk about your report" in mails[address].text_body
        assert "talk about your report" in mails[address].html_body
    copy = mails["ada@example.net"]
    assert "Reply-To" not in copy.headers
    assert "org.example" not in copy.text_body + copy.html_body + copy.subject

    thanks = client.get(response["Location"]).content.decode()
    assert "Thanks, we got it." in thanks
    assert 'name="message"' not in thanks


def test_no_copy_unless_asked_and_no_topic_uses_the_first_words(client, contact_page, post_data):
    response = client.post(contact_page.url, post_data(topic="", message="Line one\r\nline two of my long question"))
    assert response.status_code == 303
    assert sorted(OutgoingMail.objects.values_list("to", flat=True)) == ["board@org.example", "team@org.example"]
    assert set(OutgoingMail.objects.values_list("subject", flat=True)) == {
        "Contact: Line one line two of my long question"
    }


def test_subject_is_one_clean_line():
    assert subject_for("", "Hi\u202e there\r\nBcc: x@y.z\0") == "Contact: Hi there Bcc: x@y.z"
    assert len(subject_for("", "word " * 200)) < 100


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "Please give a name"),
        ({"name": "x" * 101}, "name", "at most 100 characters"),
        ({"name": "Ada\u202eevil"}, "name", "invisible or control characters"),
        ({"name": "Ada\u200b"}, "name", "invisible or control characters"),
        ({"email": "ada@example.net\r\nBcc: victim@example.org"}, "email", "Enter a valid email address"),
        ({"email": "not an address"}, "email", "Enter a valid email address"),
        ({"email": ""}, "email", "Please give an email address"),
        ({"message": "   \n  "}, "message", "Write something before sending"),
        ({"message": "y" * 10_001}, "message", "at most 10000 characters"),
        ({"message": "bell\x07"}, "message", "control characters"),
        ({"topic": "Not a topic"}, "topic", "Select a valid choice"),
    ],
)
def test_each_bad_field_is_refused_with_its_message_and_the_text_kept(
    client, contact_page, post_data, changes, field, message
):
    data = post_data(**changes)
    if field != "message":
        data["message"] = "My <b>kept</b> text"
    response = client.post(contact_page.url, data)
    html = response.content.decode()
    assert response.status_code == 400
    assert f'data-field="{field}"' in html and "field--error" in html
    assert message in html
    if field != "message":
        assert "My &lt;b&gt;kept&lt;/b&gt; text" in html
    assert not ContactMessage.objects.exists() and not OutgoingMail.objects.exists()


def test_invalid_utf8_is_refused_with_a_message(client, contact_page, post_data):
    data = post_data()
    body = "&".join(
        f"{key}={value}" for key, value in {**data, "message": "abc", "form_token": data["form_token"]}.items()
    )
    body = body.replace("message=abc", "message=abc%FF%FE")
    response = client.post(contact_page.url, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "not valid UTF-8" in response.content.decode()
    assert not ContactMessage.objects.exists()


def test_honeypot_holds_the_message_and_says_so(client, contact_page, post_data):
    response = client.post(contact_page.url, post_data(homepage="http://spam.example"))
    assert response.status_code == 303
    assert response["Location"].endswith(f"{contact_page.url}?held=1")
    message = ContactMessage.objects.get()
    assert message.is_spam and message.spam_reason
    assert not OutgoingMail.objects.exists()

    held = client.get(response["Location"]).content.decode()
    assert "Thanks, we got it." not in held, "a caught message is never confirmed as delivered"
    assert "waiting for a person to check it" in held
    assert "has not been passed on yet" in held
    assert 'name="message"' not in held


def test_block_words_hold_the_message_and_say_so(client, contact_page, post_data):
    rules = DiscussionSettings.load()
    rules.block_words = "cheap pills"
    rules.save()
    response = client.post(contact_page.url, post_data(message="Buy CHEAP PILLS now"))
    assert response["Location"].endswith("?held=1")
    assert ContactMessage.objects.get().is_spam
    assert not OutgoingMail.objects.exists()


def test_a_quick_message_is_not_refused(client, contact_page, post_data):
    """The time trap is one signal among others, never a wall a person hits."""
    response = client.post(contact_page.url, post_data(form_token=issue_form_token(form_key(contact_page))))
    assert response.status_code == 303
    assert ContactMessage.objects.count() == 1


def test_a_message_sent_again_at_once_after_an_error_goes_through(client, contact_page, post_data):
    refused = client.post(contact_page.url, post_data(email="not-an-address"))
    assert refused.status_code == 400
    token = re.search(r'name="form_token" value="([^"]+)"', refused.content.decode()).group(1)
    assert client.post(contact_page.url, post_data(form_token=token)).status_code == 303
    assert ContactMessage.objects.count() == 1


def test_the_trap_is_rendered_hidden_and_out_of_the_tab_order(client, contact_page):
    html = client.get(contact_page.url).content.decode()
    trap = html[html.index('<div class="reply-form__trap"') :]
    trap = trap[: trap.index("</div>")]
    assert trap.startswith('<div class="reply-form__trap" hidden>')
    assert 'name="homepage"' in trap and 'tabindex="-1"' in trap


def test_form_errors_are_summarised_and_described(client, contact_page, post_data):
    response = client.post(contact_page.url, post_data(email="not an address", message=""))
    html = response.content.decode()
    assert response.status_code == 400
    summary = html[html.index('<div class="error-summary"') :]
    summary = summary[: summary.index("</div>")]
    assert 'role="alert"' in summary
    assert 'href="#id_email"' in summary and 'href="#id_message"' in summary
    assert 'aria-describedby="id_email-error id_email_helptext"' in html
    assert 'id="id_email-error"' in html and 'id="id_email_helptext"' in html
    assert 'aria-describedby="id_message-error"' in html


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (lambda page: issue_form_token(form_key(page), time.time() - 3 * 24 * 3600), "expired"),
        (lambda page: "forged", "expired"),
    ],
)
def test_time_trap_refuses_and_keeps_the_text(client, contact_page, post_data, token, message):
    response = client.post(contact_page.url, post_data(form_token=token(contact_page), message="Kept words"))
    html = response.content.decode()
    assert response.status_code == 400
    assert message in html and "Kept words" in html
    assert not ContactMessage.objects.exists()


@override_settings(SPEAKOUT_CONTACT_SECONDS_BETWEEN_MESSAGES=30)
def test_rate_limit_per_client(client, contact_page, post_data):
    """Per client (and account), not per typed address: tests/contact/test_typed_addresses.py."""
    assert client.post(contact_page.url, post_data()).status_code == 303
    again = client.post(contact_page.url, post_data(email="other@example.net", message="Second one"))
    assert again.status_code == 429
    assert "Please wait 30 seconds" in again.content.decode() and "Second one" in again.content.decode()
    assert ContactMessage.objects.count() == 1


@override_settings(SPEAKOUT_CONTACT_SECONDS_BETWEEN_MESSAGES=30)
def test_the_rate_limit_is_claimed_atomically_when_the_message_is_stored(client, contact_page, post_data, monkeypatch):
    """Two messages sent at once both pass the look-only check; the claim made in the storing
    transaction lets one through and refuses the other, as for replies."""
    from speakout.contact.services import ContactRateLimitCheck

    monkeypatch.setattr(ContactRateLimitCheck, "check", lambda self, submission: None)
    assert client.post(contact_page.url, post_data()).status_code == 303
    again = client.post(contact_page.url, post_data(message="Sent at the same moment"))
    assert again.status_code == 429 and "Please wait 30 seconds" in again.content.decode()
    assert ContactMessage.objects.count() == 1


@override_settings(SPEAKOUT_CONTACT_SECONDS_BETWEEN_MESSAGES=0)
def test_rate_limit_can_be_switched_off(client, contact_page, post_data):
    assert client.post(contact_page.url, post_data()).status_code == 303
    assert client.post(contact_page.url, post_data(message="Second")).status_code == 303


def test_a_failure_while_queueing_stores_and_queues_nothing(client, contact_page, post_data, monkeypatch):
    import speakout.outbox.services as outbox_services
    from speakout.contact import services

    real = outbox_services.queue_mail
    calls = []

    def failing(to, *args, **kwargs):
        calls.append(to)
        if len(calls) == 2:
            raise RuntimeError("database trouble")
        return real(to, *args, **kwargs)

    monkeypatch.setattr(services, "queue_mail", failing)
    response = client.post(contact_page.url, post_data(message="Please keep this"))
    html = response.content.decode()
    assert response.status_code == 503
    assert "could not be sent" in html and "Please keep this" in html
    assert len(calls) == 2
    assert not ContactMessage.objects.exists(), "the message is rolled back with its mails"
    assert not OutgoingMail.objects.exists(), "the first mail was rolled back too"


def test_hostile_content_is_escaped_in_the_html_mail(client, contact_page, post_data):
    client.post(
        contact_page.url,
        post_data(name="<script>alert(1)</script>", message="<img src=x onerror=alert(2)>\nbye", send_copy="on"),
    )
    for mail in OutgoingMail.objects.all():
        assert "<script>" not in mail.html_body and "<img" not in mail.html_body
        assert "&lt;script&gt;" in mail.html_body
        assert "<script>alert(1)</script>" in mail.text_body, "the plain text part is not HTML-escaped"
