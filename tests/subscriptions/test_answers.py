"""Mail about one's own reply: answers to it ("email me when someone answers this reply") and the
moderators' decision on it. Sent only for approved answers, at most one mail per thread and
address per ``ANSWER_MINUTES`` (a digest when more), never to the answer's own writer, and only to
an address that was proved (a verified account address, or a guest's confirmed link)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, override_settings
from django.utils import timezone

from speakout.discussion.models import Reply
from speakout.discussion.services import Author, get_or_create_thread, set_status
from speakout.outbox.models import OutgoingMail
from speakout.outbox.sender import organisation_name
from speakout.subscriptions import services
from speakout.subscriptions.models import AnswerNotice, Subscription
from tests.subscriptions.helpers import HOLD, SPAM, link_path, mails_to

pytestmark = pytest.mark.django_db


def guest() -> Author:
    return Author(client_hash=uuid.uuid4().hex, guest_token=uuid.uuid4().hex)


def verified_reader(username: str, email: str):
    from allauth.account.models import EmailAddress

    user = get_user_model().objects.create_user(username, email=email, password="a long password 123")
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def confirmed_writer(thread, post_reply, email="ada@example.org", body="My first reply.", **fields):
    """A guest's reply with the answers box ticked, confirmed by the link in its one mail."""
    fields.setdefault("checks", [])  # no rate limit: one person writes several replies here
    result = post_reply(thread, author=guest(), email=email, body=body, notify_answers="1", **fields)
    [confirmation] = mails_to(email)
    assert "/subscriptions/confirm/" in confirmation.text_body
    response = Client().post(link_path(confirmation.text_body, "confirm"))
    assert response.status_code == 200
    OutgoingMail.objects.all().delete()
    return result.reply


def answer(thread, post_reply, parent, name="Bob", email="bob@example.org", body="An answer.", **fields):
    fields.setdefault("checks", [])
    return post_reply(thread, author=guest(), parent=parent.pk, name=name, email=email, body=body, **fields)


# Asking --------------------------------------------------------------------------------------


def test_a_guests_box_asks_for_a_confirmation_first_and_an_unconfirmed_address_hears_nothing(thread, post_reply):
    mine = post_reply(thread, author=guest(), email="ada@example.org", notify_answers="1").reply
    [confirmation] = mails_to("ada@example.org")
    assert "answers to your reply" in confirmation.text_body
    assert "List-Unsubscribe" not in confirmation.headers
    answer(thread, post_reply, mine)
    assert mails_to("ada@example.org") == [confirmation], "a typed address proves nothing"
    assert not AnswerNotice.objects.exists()


def test_both_boxes_need_one_confirmation_that_confirms_both(thread, post_reply):
    mine = post_reply(thread, author=guest(), email="ada@example.org", notify_answers="1", notify_outcome="1").reply
    [confirmation] = mails_to("ada@example.org")
    assert "answers to your reply" in confirmation.text_body and "decision" in confirmation.text_body
    Client().post(link_path(confirmation.text_body, "confirm"))
    rows = Subscription.objects.filter(reply=mine)
    assert sorted(rows.values_list("kind", flat=True)) == ["answers", "outcome"]
    assert all(row.is_active for row in rows)


def test_a_signed_in_reader_with_a_verified_address_is_subscribed_by_default_without_a_mail(thread, post_reply):
    user = verified_reader("ada", "ada@example.org")
    mine = post_reply(thread, author=Author(user=user, client_hash="c1"), email="").reply
    rows = Subscription.objects.filter(reply=mine)
    assert sorted(rows.values_list("kind", flat=True)) == ["answers", "outcome"]
    assert all(row.is_active and row.email == "ada@example.org" for row in rows)
    assert mails_to("ada@example.org") == []
    # Unticked boxes say no.
    other = post_reply(
        thread, author=Author(user=user, client_hash="c1"), email="", notify_answers="0", notify_outcome="0"
    ).reply
    assert not Subscription.objects.filter(reply=other).exists()


def test_without_a_verified_address_nothing_is_asked_by_default(thread, post_reply):
    user = get_user_model().objects.create_user("rey", email="rey@example.org", password="a long password 123")
    post_reply(thread, author=Author(user=user, client_hash="c1"), email="")
    post_reply(thread, author=guest(), email="guest@example.org")
    assert not Subscription.objects.exists() and not OutgoingMail.objects.exists()


def test_a_spam_reply_asks_for_nothing(thread, post_reply):
    post_reply(thread, author=guest(), checks=SPAM, email="victim@example.org", notify_answers="1")
    assert not Subscription.objects.exists() and mails_to("victim@example.org") == []


# Answers ---------------------------------------------------------------------------------------


def test_an_approved_answer_is_mailed_with_the_site_name_and_one_click_unsubscribe(thread, post_reply):
    mine = confirmed_writer(thread, post_reply, body="What about the rents?")
    reply = answer(thread, post_reply, mine, name="Bob", body="They went up by a third.").reply
    [mail] = mails_to("ada@example.org")
    assert "Bob" in mail.subject and "A test report" in mail.subject
    assert "They went up by a third." in mail.text_body and "What about the rents?" in mail.text_body
    assert f"#reply-{reply.pk}" in mail.text_body and f"#reply-{reply.pk}" in mail.html_body
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/subscriptions/unsubscribe/" in mail.headers["List-Unsubscribe"]
    assert "/subscriptions/unsubscribe-all/" in mail.text_body
    assert "<img" not in mail.html_body
    assert organisation_name() in mail.text_body and organisation_name() in mail.html_body
    assert mails_to("bob@example.org") == []


@pytest.mark.parametrize("checks", [HOLD, SPAM], ids=["held", "spam"])
def test_held_and_spam_answers_are_not_mailed_until_approved(thread, post_reply, checks):
    mine = confirmed_writer(thread, post_reply)
    reply = answer(thread, post_reply, mine, checks=checks).reply
    assert reply.status != Reply.Status.APPROVED
    assert mails_to("ada@example.org") == []
    set_status(reply, Reply.Status.APPROVED)
    [mail] = mails_to("ada@example.org")
    assert "An answer." in mail.text_body


def test_an_answer_removed_before_its_mail_goes_is_not_mailed(thread, post_reply, settings):
    settings.SPEAKOUT_SUBSCRIPTIONS_ANSWER_MINUTES = 15
    mine = confirmed_writer(thread, post_reply)
    answer(thread, post_reply, mine, body="First.")
    assert len(mails_to("ada@example.org")) == 1
    second = answer(thread, post_reply, mine, body="Second, removed while it waits.").reply
    assert len(mails_to("ada@example.org")) == 1
    set_status(second, Reply.Status.TRASH)
    assert services.send_due_answers(now=timezone.now() + timedelta(minutes=16)) == 0
    assert len(mails_to("ada@example.org")) == 1


def test_no_mail_about_ones_own_answer(thread, post_reply):
    writer = guest()
    mine = post_reply(thread, author=writer, email="ada@example.org", notify_answers="1").reply
    Client().post(link_path(mails_to("ada@example.org")[0].text_body, "confirm"))
    OutgoingMail.objects.all().delete()
    # The same guest answers themselves, under another name and address: still nothing.
    post_reply(thread, author=writer, parent=mine.pk, name="Someone", email="other@example.org", checks=[])
    assert mails_to("ada@example.org") == []
    assert not AnswerNotice.objects.exists()


def test_only_direct_answers_count(thread, post_reply):
    mine = confirmed_writer(thread, post_reply)
    first = answer(thread, post_reply, mine).reply
    assert len(mails_to("ada@example.org")) == 1
    OutgoingMail.objects.all().delete()
    answer(thread, post_reply, first, name="Carol", email="carol@example.org", body="An answer to Bob.")
    assert mails_to("ada@example.org") == []


def test_more_answers_within_the_interval_wait_and_go_out_in_one_digest(thread, post_reply, settings):
    settings.SPEAKOUT_SUBSCRIPTIONS_ANSWER_MINUTES = 15
    mine = confirmed_writer(thread, post_reply)
    other = confirmed_writer(thread, post_reply, body="My second reply.")
    other_thread = get_or_create_thread("report-2", url="http://testserver/reports/2/", title="Another report")
    elsewhere = confirmed_writer(other_thread, post_reply, body="Elsewhere.")

    answer(thread, post_reply, mine, name="Bob", body="First answer.")
    [first] = mails_to("ada@example.org")
    assert "First answer." in first.text_body
    answer(thread, post_reply, mine, name="Carol", email="carol@example.org", body="Second answer.")
    answer(thread, post_reply, other, name="Dan", email="dan@example.org", body="Third answer.")
    # Another thread has its own interval.
    answer(other_thread, post_reply, elsewhere, name="Eve", email="eve@example.org", body="Elsewhere answer.")
    mails = mails_to("ada@example.org")
    assert len(mails) == 2 and "Elsewhere answer." in mails[1].text_body
    assert services.send_due_answers(now=timezone.now() + timedelta(minutes=14)) == 0
    assert services.send_due_answers(now=timezone.now() + timedelta(minutes=16)) == 1
    digest = list(OutgoingMail.objects.filter(to="ada@example.org").order_by("pk"))[-1]
    assert "2 answers" in digest.subject
    assert "Second answer." in digest.text_body and "Third answer." in digest.text_body
    assert "First answer." not in digest.text_body
    assert "Second answer." in digest.html_body and "Third answer." in digest.html_body
    assert digest.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert services.send_due_answers(now=timezone.now() + timedelta(minutes=40)) == 0
    assert not AnswerNotice.objects.exists(), "mailed notices are kept only while they hold mail back"


def test_a_thread_follower_hears_of_an_answer_to_their_reply_once(thread, post_reply, subscribe):
    mine = confirmed_writer(thread, post_reply)
    subscribe("ada@example.org", thread=thread)
    answer(thread, post_reply, mine, body="Just one mail.")
    [mail] = mails_to("ada@example.org")
    assert "answered your reply" in mail.subject


# Unsubscribing -------------------------------------------------------------------------------


def test_one_click_unsubscribe_stops_the_answers_in_that_thread_only(thread, post_reply):
    mine = confirmed_writer(thread, post_reply)
    second = confirmed_writer(thread, post_reply, body="My second reply.")
    other_thread = get_or_create_thread("report-2", url="http://testserver/reports/2/", title="Another report")
    elsewhere = confirmed_writer(other_thread, post_reply, body="Elsewhere.")
    answer(thread, post_reply, mine)
    [mail] = mails_to("ada@example.org")
    link = mail.headers["List-Unsubscribe"].strip("<>")
    response = Client(enforce_csrf_checks=True).post(
        link, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    OutgoingMail.objects.all().delete()
    answer(thread, post_reply, second, name="Carol", email="carol@example.org")
    assert mails_to("ada@example.org") == []
    answer(other_thread, post_reply, elsewhere, name="Dan", email="dan@example.org", body="Still told.")
    [mail] = mails_to("ada@example.org")
    assert "Still told." in mail.text_body


def test_the_stop_everything_link_stops_every_subscription_of_the_address(thread, post_reply, subscribe):
    mine = confirmed_writer(thread, post_reply)
    subscribe("ada@example.org", thread=thread)
    subscribe("ada@example.org")
    subscribe("bob@example.org", thread=thread)
    answer(thread, post_reply, mine, name="Carol", email="carol@example.org")
    [mail] = mails_to("ada@example.org")
    path = link_path(mail.text_body, "unsubscribe-all")
    page = Client().get(path)
    assert page.status_code == 200 and b"<form" in page.content
    assert Subscription.objects.filter(email="ada@example.org", unsubscribed_at__isnull=True).count() == 3
    assert Client(enforce_csrf_checks=True).post(path).status_code == 200
    assert not Subscription.objects.filter(email="ada@example.org", unsubscribed_at__isnull=True).exists()
    assert Subscription.objects.filter(email="bob@example.org", unsubscribed_at__isnull=True).exists()
    assert Client().post(path.replace("unsubscribe-all/", "unsubscribe-all/x")).status_code == 400


# The moderators' decision ------------------------------------------------------------------------


def test_a_held_reply_approved_tells_its_writer_it_is_published(thread, post_reply):
    user = verified_reader("ada", "ada@example.org")
    held = post_reply(thread, author=Author(user=user, client_hash="c1"), email="", checks=HOLD, body="Held.").reply
    assert mails_to("ada@example.org") == []
    set_status(held, Reply.Status.APPROVED)
    [mail] = mails_to("ada@example.org")
    assert "published" in mail.subject and f"#reply-{held.pk}" in mail.text_body
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # Held and approved again: once is enough.
    set_status(held, Reply.Status.PENDING)
    set_status(held, Reply.Status.APPROVED)
    assert len(mails_to("ada@example.org")) == 1


def test_a_reply_published_at_once_gets_no_published_mail(thread, post_reply):
    user = verified_reader("ada", "ada@example.org")
    post_reply(thread, author=Author(user=user, client_hash="c1"), email="")
    assert mails_to("ada@example.org") == []


def test_no_published_mail_without_the_box_or_to_an_unconfirmed_address(thread, post_reply):
    user = verified_reader("ada", "ada@example.org")
    unticked = post_reply(
        thread, author=Author(user=user, client_hash="c1"), email="", checks=HOLD, notify_outcome="0"
    ).reply
    typed = post_reply(thread, author=guest(), email="typed@example.org", checks=HOLD, notify_outcome="1").reply
    OutgoingMail.objects.all().delete()
    set_status(unticked, Reply.Status.APPROVED)
    set_status(typed, Reply.Status.APPROVED)
    assert mails_to("ada@example.org") == [] and mails_to("typed@example.org") == []


@override_settings(SPEAKOUT_SUBSCRIPTIONS_ANSWER_MINUTES=0)
def test_without_an_interval_every_answer_has_its_own_mail(thread, post_reply):
    mine = confirmed_writer(thread, post_reply)
    answer(thread, post_reply, mine, body="One.")
    answer(thread, post_reply, mine, name="Carol", email="carol@example.org", body="Two.")
    assert len(mails_to("ada@example.org")) == 2


# The form ------------------------------------------------------------------------------------------


def render_form(client, thread, rules) -> str:
    from django.template.loader import render_to_string

    from speakout.discussion.views import reply_form_context

    request = client.get("/").wsgi_request
    return render_to_string(
        "discussion/reply_form.html", reply_form_context(request, thread, rules=rules), request=request
    )


def boxes(html: str) -> dict[str, bool]:
    import re

    found = re.findall(
        r'<input type="checkbox" name="(notify_answers|notify_outcome)" value="1"[^>]*?( checked)?>', html
    )
    return {name: bool(checked) for name, checked in found}


def test_the_form_has_the_boxes_ticked_only_for_a_reader_with_a_verified_address(client, thread, rules):
    html = render_form(client, thread, rules)
    assert "Email me when someone answers this reply" in html
    assert boxes(html) == {"notify_answers": False, "notify_outcome": False}
    assert html.count('<input type="hidden" name="notify_answers" value="0">') == 1
    client.force_login(get_user_model().objects.create_user("rey", email="rey@example.org", password="x"))
    assert boxes(render_form(client, thread, rules)) == {"notify_answers": False, "notify_outcome": False}
    client.force_login(verified_reader("ada", "ada@example.org"))
    assert boxes(render_form(client, thread, rules)) == {"notify_answers": True, "notify_outcome": True}


def unsent_mails_naming(name: str) -> list[OutgoingMail]:
    return [
        mail
        for mail in OutgoingMail.objects.exclude(status=OutgoingMail.Status.SENT)
        if name in mail.subject or name in mail.text_body or name in mail.html_body
    ]


def test_an_answer_anonymised_before_its_mail_went_is_mailed_without_the_name(thread, post_reply, settings):
    """Privacy erasure: a queued answer mail that carried the writer's name is rendered again with
    the anonymous name; the reader still learns of the answer, and no unsent mail keeps the name."""
    from speakout.privacy.services import Owner, anonymise

    settings.SPEAKOUT_SUBSCRIPTIONS_ANSWER_MINUTES = 15
    mine = confirmed_writer(thread, post_reply)
    first = answer(thread, post_reply, mine, name="Bob Hidalgo", body="First answer.").reply
    [mail] = mails_to("ada@example.org")
    assert "Bob Hidalgo" in mail.subject and mail.status == OutgoingMail.Status.PENDING

    assert anonymise(Owner.for_email("bob@example.org"), Reply.objects.get(pk=first.pk))
    assert unsent_mails_naming("Hidalgo") == []
    services.send_due_answers()
    [again] = mails_to("ada@example.org")
    assert "Anonymous" in again.subject and "First answer." in again.text_body

    # In a digest with someone else's answer, only the erased name goes.
    OutgoingMail.objects.all().delete()
    AnswerNotice.objects.all().delete()
    answer(thread, post_reply, mine, name="Dan", email="dan@example.org", body="Goes at once.")
    assert len(mails_to("ada@example.org")) == 1
    second = answer(thread, post_reply, mine, name="Bea Hidalgo", email="bea@example.org", body="Second.").reply
    answer(thread, post_reply, mine, name="Carol", email="carol@example.org", body="Third.")
    later = timezone.now() + timedelta(minutes=16)
    assert len(mails_to("ada@example.org")) == 1, "the two answers wait for the interval"
    services.send_due_answers(now=later)
    [digest] = unsent_mails_naming("Bea Hidalgo")
    assert "Third." in digest.text_body
    assert anonymise(Owner.for_email("bea@example.org"), Reply.objects.get(pk=second.pk))
    assert unsent_mails_naming("Hidalgo") == []
    services.send_due_answers(now=later)
    digests = [mail for mail in mails_to("ada@example.org") if "Third." in mail.text_body]
    assert len(digests) == 1 and "Second." in digests[0].text_body and "Carol" in digests[0].text_body


def test_an_unsent_answer_mail_whose_notice_is_gone_is_cancelled_on_anonymising(thread, post_reply, settings):
    """A mail still retrying after its notice was let go (the mail server was down for longer than
    the interval) cannot be rendered again: it is cancelled rather than sent with the name."""
    from speakout.privacy.services import Owner, anonymise

    mine = confirmed_writer(thread, post_reply)
    first = answer(thread, post_reply, mine, name="Bob Hidalgo", body="First answer.").reply
    assert len(mails_to("ada@example.org")) == 1
    assert len(unsent_mails_naming("Hidalgo")) == 1
    AnswerNotice.objects.all().delete()
    assert anonymise(Owner.for_email("bob@example.org"), Reply.objects.get(pk=first.pk))
    assert unsent_mails_naming("Hidalgo") == []


@pytest.mark.parametrize("body", ["Bob's answer.", "Bob's answer, with thanks to Bo."])
def test_anonymising_a_writer_whose_name_is_part_of_another_name_loses_no_answer(thread, post_reply, body):
    """Erasing "Bo" takes back what names Bo; a queued mail telling Ada of Bob's answer is not
    about Bo, and if it is dropped on a doubt (Bob's text names Bo) its answer waits again: Ada
    still hears of it."""
    from speakout.privacy.services import Owner, anonymise

    mine = confirmed_writer(thread, post_reply)
    answer(thread, post_reply, mine, name="Bob", body=body)
    [mail] = mails_to("ada@example.org")
    assert mail.status == OutgoingMail.Status.PENDING and "Bob's answer" in mail.text_body
    # Bo writes elsewhere in the thread, then erases the reply.
    bo = post_reply(thread, author=guest(), name="Bo", email="bo@example.org", body="Elsewhere.", checks=[]).reply

    assert anonymise(Owner.for_email("bo@example.org"), Reply.objects.get(pk=bo.pk))
    services.send_due_answers(now=timezone.now() + timedelta(hours=1))
    told = [mail for mail in mails_to("ada@example.org") if "Bob's answer" in mail.text_body]
    assert len(told) == 1, "Bob's answer must reach Ada once"


def test_a_guest_who_confirms_after_the_approval_still_hears_it_is_published(thread, post_reply):
    """The approval came while the address was unproved (nothing may go to it then); confirming
    later sends the "published" mail once, and an answer approved meanwhile is mailed too."""
    mine = post_reply(
        thread, author=guest(), email="ada@example.org", checks=HOLD, notify_outcome="1", notify_answers="1"
    ).reply
    [confirmation] = mails_to("ada@example.org")
    set_status(mine, Reply.Status.APPROVED)
    answer(thread, post_reply, Reply.objects.get(pk=mine.pk), name="Bob", body="Welcome.")
    answer(thread, post_reply, Reply.objects.get(pk=mine.pk), name="Mallory", body="Held.", checks=HOLD)
    assert mails_to("ada@example.org") == [confirmation], "nothing goes to an unproved address"

    assert Client().post(link_path(confirmation.text_body, "confirm")).status_code == 200
    mails = mails_to("ada@example.org")[1:]
    assert len(mails) == 2
    published = next(mail for mail in mails if "published" in mail.subject)
    assert f"#reply-{mine.pk}" in published.text_body
    answered = next(mail for mail in mails if "answered" in mail.subject)
    assert "Welcome." in answered.text_body and "Held." not in answered.text_body

    # The link again, or the worker's sweep, sends nothing more.
    Client().post(link_path(confirmation.text_body, "confirm"))
    services.send_due_answers(now=timezone.now() + timedelta(hours=1))
    assert len(mails_to("ada@example.org")) == 3


def test_confirming_after_a_reply_went_out_at_once_sends_no_published_mail(thread, post_reply):
    mine = post_reply(thread, author=guest(), email="ada@example.org", notify_outcome="1").reply
    assert mine.status == Reply.Status.APPROVED
    [confirmation] = mails_to("ada@example.org")
    Client().post(link_path(confirmation.text_body, "confirm"))
    assert mails_to("ada@example.org") == [confirmation]


def test_the_writers_own_unsent_mail_about_a_reply_they_anonymised_is_dropped(thread, post_reply):
    """Erasure: the "published" and answers mails queued for the writer carry their name or tie
    their address to the reply; they are taken back, and the reply's own subscriptions end, so
    nothing later mails the address about it."""
    from speakout.privacy.services import Owner, anonymise

    mine = confirmed_writer(thread, post_reply, name="Ada Lovelock", checks=HOLD, notify_outcome="1")
    other = confirmed_writer(thread, post_reply, email="bea@example.org", name="Bea", checks=HOLD, notify_outcome="1")
    set_status(mine, Reply.Status.APPROVED)
    set_status(other, Reply.Status.APPROVED)
    services.send_due_reply_notifications()
    answer(thread, post_reply, Reply.objects.get(pk=mine.pk), body="An answer to Ada.")
    assert len(unsent_mails_naming("Lovelock")) == 1
    assert any("An answer to Ada." in mail.text_body for mail in mails_to("ada@example.org"))
    assert Subscription.objects.filter(reply=mine).exists()

    assert anonymise(Owner.for_email("ada@example.org"), Reply.objects.get(pk=mine.pk))
    assert unsent_mails_naming("Lovelock") == []
    assert mails_to("ada@example.org") == []
    assert not Subscription.objects.filter(reply=mine).exists()
    assert len(mails_to("bea@example.org")) == 1, "another writer's mail stays"


def test_a_removal_notice_not_yet_sent_to_a_writer_who_anonymised_the_reply_is_dropped(thread, post_reply):
    from speakout.discussion import moderation
    from speakout.privacy.services import Owner, anonymise

    removed = confirmed_writer(thread, post_reply, name="Ada Lovelock", notify_outcome="1")
    notice = "We removed it because it named a neighbour."
    moderation.perform(moderation.ACTIONS["spam"], Reply.objects.get(pk=removed.pk), notice=notice)
    assert any(notice in mail.text_body for mail in unsent_mails_naming("Lovelock"))
    assert anonymise(Owner.for_email("ada@example.org"), Reply.objects.get(pk=removed.pk))
    assert unsent_mails_naming("Lovelock") == []


def test_unsent_mail_about_a_reply_its_writer_deleted_is_dropped(thread, post_reply, subscribe):
    """Erasure: deleting a reply takes back the mails queued about it, to its writer (it was
    published) and to others (the answer it was), and ends the reply's own subscriptions."""
    from speakout.privacy.services import Owner, delete

    mine = confirmed_writer(thread, post_reply, name="Ada Lovelock", checks=HOLD, notify_outcome="1")
    other = confirmed_writer(thread, post_reply, email="bea@example.org", name="Bea", checks=HOLD, notify_outcome="1")
    set_status(mine, Reply.Status.APPROVED)
    set_status(other, Reply.Status.APPROVED)
    services.send_due_reply_notifications()
    subscribe("sub@example.org", thread=thread)
    answer(thread, post_reply, Reply.objects.get(pk=mine.pk), body="An answer to Ada.")
    hidalgo = answer(
        thread,
        post_reply,
        Reply.objects.get(pk=other.pk),
        name="Bob Hidalgo",
        email="hidalgo@example.org",
        body="Bob says hello.",
    )
    services.send_due_reply_notifications()
    assert len(unsent_mails_naming("Lovelock")) == 1 and len(unsent_mails_naming("Hidalgo")) == 2

    assert delete(Owner.for_email("ada@example.org"), Reply.objects.get(pk=mine.pk))
    assert delete(Owner.for_email("hidalgo@example.org"), Reply.objects.get(pk=hidalgo.reply.pk))
    assert unsent_mails_naming("Lovelock") == [] and unsent_mails_naming("Hidalgo") == []
    assert mails_to("ada@example.org") == []
    assert not [mail for mail in OutgoingMail.objects.all() if "Bob says hello." in mail.text_body]
    assert not Subscription.objects.filter(reply_id=mine.pk).exists()
    [published] = mails_to("bea@example.org")
    assert "published" in published.subject, "another writer's mail stays"
    [notice] = mails_to("sub@example.org")
    assert "An answer to Ada." in notice.text_body, "the notice of a reply that stays, stays"


def test_the_stored_copy_of_a_sent_notice_about_a_deleted_reply_goes(thread, post_reply, subscribe):
    """As on anonymising: delivered notices stay in the subscribers' inboxes, but we keep no copy
    of the deleted reply's name and text."""
    from speakout.outbox.services import send_due_mail
    from speakout.privacy.services import Owner, delete

    subscribe("sub@example.org", thread=thread)
    gone = post_reply(
        thread, author=guest(), name="Bob Hidalgo", email="hidalgo@example.org", body="Bob says hello.", checks=[]
    ).reply
    services.send_due_reply_notifications()
    send_due_mail()
    assert OutgoingMail.objects.filter(status=OutgoingMail.Status.SENT, text_body__contains="Bob says hello.").exists()
    assert delete(Owner.for_email("hidalgo@example.org"), Reply.objects.get(pk=gone.pk))
    assert not [mail for mail in OutgoingMail.objects.all() if "Bob says hello." in mail.text_body]
