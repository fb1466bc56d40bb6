"""Mail to moderators about held and reported replies (speakout/publishing/alerts.py): to the
people who may moderate and nobody else, never for spam, once per reply, in the mode the
discussion rules choose (each, daily summary, off), with links into the admin that change nothing."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.utils import timezone, translation

from speakout.discussion.models import DiscussionSettings, Reply
from speakout.discussion.services import Author, flag_reply, set_status
from speakout.outbox.models import OutgoingMail
from speakout.publishing import alerts
from tests.subscriptions.helpers import HOLD, SPAM

pytestmark = pytest.mark.django_db

User = get_user_model()


@pytest.fixture(autouse=True)
def clean_cache(settings):
    settings.BASE_URL = "http://testserver"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def moderator(db):
    """A moderator through a group: admin access plus the right to change replies."""
    group = Group.objects.create(name="Reply moderators")
    group.permissions.add(
        Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin"),
        Permission.objects.get(content_type__app_label="speakout_discussion", codename="change_reply"),
    )
    user = User.objects.create_user("moira", "moira@example.org", "x")
    user.groups.add(group)
    return user


@pytest.fixture
def bystanders(db):
    """Who must not hear: an editor without the moderation right, an inactive superuser and a
    moderator without an address."""
    editor = User.objects.create_user("eddie", "eddie@example.org", "x")
    editor.user_permissions.add(Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin"))
    User.objects.create_superuser("gone", "gone@example.org", "x", is_active=False)
    User.objects.create_superuser("silent", "", "x")


def set_mode(mode):
    settings_row = DiscussionSettings.load()
    settings_row.moderator_alerts = mode
    settings_row.save()


def mails_to(address):
    return list(OutgoingMail.objects.filter(to=address).order_by("pk"))


def test_a_held_reply_mails_each_moderator_once_with_a_link_into_the_admin(
    thread, post_reply, moderator, bystanders, client
):
    result = post_reply(thread, checks=HOLD, body="Please look at **this** <script>x</script>", name="Robin")
    assert result.reply.status == Reply.Status.PENDING

    [mail] = mails_to("moira@example.org")
    assert "A test report" in mail.subject and "waiting for review" in mail.subject
    assert "Robin" in mail.text_body and "Please look at this" in mail.text_body
    assert "<script>" not in mail.html_body
    assert "http://testserver/admin/replies/pending/" in mail.text_body
    assert 'href="http://testserver/admin/replies/pending/"' in mail.html_body
    assert "robin@example.org" not in mail.text_body + mail.html_body, "the commenter's address stays private"
    assert OutgoingMail.objects.count() == 1, "nobody else hears of it"

    # The link only opens the queue (sign-in first); it changes nothing.
    response = client.get("/admin/replies/pending/")
    assert response.status_code == 302 and "login" in response["Location"]
    client.force_login(moderator)
    assert client.get("/admin/replies/pending/").status_code == 200
    assert Reply.objects.get(pk=result.reply.pk).status == Reply.Status.PENDING


def test_spam_and_published_replies_mail_no_moderator(thread, post_reply, moderator):
    post_reply(thread, checks=SPAM)
    post_reply(thread)
    assert OutgoingMail.objects.count() == 0


def test_a_reported_reply_mails_once_however_many_readers_report_it(thread, post_reply, moderator):
    reply = post_reply(thread, body="Something hurtful").reply
    assert reply.status == Reply.Status.APPROVED
    with translation.override("es"):  # a reader browsing in Spanish: the moderator still gets their language
        flag_reply(reply, "harassment", note="It names my neighbour")
        flag_reply(reply, "spam")
    [mail] = mails_to("moira@example.org")
    assert "reported" in mail.subject
    assert "Harassment or abuse" in mail.text_body and "It names my neighbour" in mail.text_body
    assert "http://testserver/admin/replies/reported/" in mail.text_body


def test_mode_off_sends_nothing(thread, post_reply, moderator):
    set_mode(DiscussionSettings.ModeratorAlerts.OFF)
    post_reply(thread, checks=HOLD)
    flag_reply(post_reply(thread, body="Another reply").reply, "spam")
    alerts.send_daily_summaries()
    assert OutgoingMail.objects.count() == 0


def test_daily_mode_sends_one_summary_a_day_and_only_when_something_waits(thread, post_reply, moderator):
    set_mode(DiscussionSettings.ModeratorAlerts.DAILY)
    assert alerts.send_daily_summaries() == 0, "nothing waits: no mail"

    held = [post_reply(thread, checks=HOLD, body=f"Held number {n}").reply for n in range(3)]
    reported = post_reply(thread, body="Reported one").reply
    flag_reply(reported, "other")
    assert OutgoingMail.objects.count() == 0, "no mail per reply in daily mode"

    # Noon, so that the hourly run an hour later falls on the same local day whenever CI runs.
    now = timezone.make_aware(datetime.combine(timezone.localdate(), time(12)))
    assert alerts.send_daily_summaries(now) == 1
    assert alerts.send_daily_summaries(now + timedelta(minutes=60)) == 1  # the hourly run, same day
    [summary] = mails_to("moira@example.org")
    assert "3 waiting, 1 reported" in summary.subject
    assert "Held number 2" in summary.text_body and "Reported one" in summary.text_body
    assert "/admin/replies/pending/" in summary.html_body and "/admin/replies/reported/" in summary.html_body

    set_status(held[0], Reply.Status.APPROVED)
    alerts.send_daily_summaries(now + timedelta(days=1))
    assert len(mails_to("moira@example.org")) == 2, "the next day brings the next summary"
    assert "2 waiting, 1 reported" in mails_to("moira@example.org")[1].subject


def test_a_flood_of_held_replies_is_capped_per_moderator_and_hour(thread, post_reply, moderator, settings):
    settings.SPEAKOUT_MODERATOR_ALERTS_PER_HOUR = 3
    for number in range(5):
        post_reply(thread, checks=HOLD, body=f"Flood {number}")
    assert len(mails_to("moira@example.org")) == 3
    assert Reply.objects.filter(status=Reply.Status.PENDING).count() == 5, "every reply still waits in the queue"


def test_the_mail_is_in_the_moderators_language(thread, post_reply, moderator):
    from wagtail.users.models import UserProfile

    profile = UserProfile.get_for_user(moderator)
    profile.preferred_language = "es"
    profile.save()
    post_reply(thread, checks=HOLD)
    [mail] = mails_to("moira@example.org")
    assert mail.language == "es"
    assert "Una respuesta espera revisión" in mail.subject


def test_the_mode_is_a_discussion_setting_in_the_admin(admin_client):
    response = admin_client.post(
        "/admin/replies/settings/",
        {
            "hold_link_count": 2,
            "auto_close_days": 0,
            "max_depth": 5,
            "edit_window_minutes": 15,
            "replies_per_page": 50,
            "require_name_email": "on",
            "moderator_alerts": "daily",
        },
    )
    assert response.status_code == 302
    assert DiscussionSettings.load().moderator_alerts == "daily"


def unsent_mails_naming(name: str) -> list[OutgoingMail]:
    return [
        mail
        for mail in OutgoingMail.objects.exclude(status=OutgoingMail.Status.SENT)
        if name in mail.subject or name in mail.text_body or name in mail.html_body
    ]


def anonymise_writer(reply, email="robin@example.org"):
    from speakout.privacy.services import Owner, anonymise

    assert anonymise(Owner.for_email(email), Reply.objects.get(pk=reply.pk))


def test_a_queued_alert_is_written_again_without_the_name_of_a_writer_who_anonymised(thread, post_reply, moderator):
    """Erasure: an alert not yet sent loses the writer's name; the moderator still hears of the
    held and the reported reply, with the reason and the reader's note, once each."""
    robin = Author(client_hash=uuid.uuid4().hex, guest_token=uuid.uuid4().hex)  # one browser: one record
    held = post_reply(thread, author=robin, checks=HOLD, name="Robin Hidalgo", body="Held text.").reply
    reported = post_reply(thread, author=robin, name="Robin Hidalgo", body="Reported text.").reply
    flag_reply(reported, "harassment", note="It names my neighbour")
    assert len(unsent_mails_naming("Hidalgo")) == 2

    anonymise_writer(held)
    anonymise_writer(reported)
    assert unsent_mails_naming("Hidalgo") == []
    mails = mails_to("moira@example.org")
    assert len(mails) == 2
    held_mail = next(mail for mail in mails if "waiting for review" in mail.subject)
    assert "A reply by Anonymous" in held_mail.text_body and "Held text." in held_mail.text_body
    reported_mail = next(mail for mail in mails if "reported" in mail.subject)
    assert "A reader reported a reply by Anonymous" in reported_mail.text_body
    assert "It names my neighbour" in reported_mail.text_body and "Anonymous" in reported_mail.html_body


def test_a_sent_alert_stays_and_another_writers_alert_is_untouched(thread, post_reply, moderator):
    held = post_reply(thread, checks=HOLD, name="Robin Hidalgo", body="Held text.").reply
    OutgoingMail.objects.update(status=OutgoingMail.Status.SENT)
    post_reply(thread, checks=HOLD, name="Bea", email="bea@example.org", body="Other text.")
    anonymise_writer(held)
    assert len(mails_to("moira@example.org")) == 2
    assert [mail.status for mail in unsent_mails_naming("Bea")] == [OutgoingMail.Status.PENDING]


def test_a_queued_daily_summary_naming_an_anonymised_writer_is_dropped_and_made_again(thread, post_reply, moderator):
    set_mode(DiscussionSettings.ModeratorAlerts.DAILY)
    held = post_reply(thread, checks=HOLD, name="Robin Hidalgo", body="Held text.").reply
    post_reply(thread, checks=HOLD, name="Bea", email="bea@example.org", body="Other text.")
    now = timezone.make_aware(datetime.combine(timezone.localdate(), time(12)))
    assert alerts.send_daily_summaries(now) == 1
    assert len(unsent_mails_naming("Hidalgo")) == 1

    anonymise_writer(held)
    assert unsent_mails_naming("Hidalgo") == []
    alerts.send_daily_summaries(now + timedelta(minutes=60))  # the worker's next hourly run
    [summary] = mails_to("moira@example.org")
    assert "2 waiting" in summary.subject and "Anonymous" in summary.text_body and "Bea" in summary.text_body


@pytest.mark.parametrize("erase", ["anonymise", "delete"])
def test_a_queued_daily_summary_is_not_dropped_for_a_name_it_only_contains(thread, post_reply, moderator, erase):
    """Erasing "Bo" is not about "Bob": a summary that names only Bob goes out when it is due,
    not an hour later."""
    set_mode(DiscussionSettings.ModeratorAlerts.DAILY)
    post_reply(thread, checks=HOLD, name="Bob", email="bob@example.org", body="Waiting text.")
    published = post_reply(thread, name="Bo", body="Published text.").reply
    now = timezone.make_aware(datetime.combine(timezone.localdate(), time(12)))
    assert alerts.send_daily_summaries(now) == 1

    (anonymise_writer if erase == "anonymise" else delete_as_writer)(published)
    [summary] = mails_to("moira@example.org")
    assert summary.status == OutgoingMail.Status.PENDING and "Bob" in summary.text_body


def delete_as_writer(reply, email="robin@example.org"):
    from speakout.privacy.services import Owner, delete

    assert delete(Owner.for_email(email), Reply.objects.get(pk=reply.pk))


def unsent_mails_quoting(text: str) -> list[OutgoingMail]:
    return [mail for mail in OutgoingMail.objects.exclude(status=OutgoingMail.Status.SENT) if text in mail.text_body]


def test_a_queued_alert_about_a_reply_its_writer_deleted_is_dropped(thread, post_reply, moderator):
    """Erasure: no alert not yet sent keeps the name or the text of a deleted reply, and none is
    written again (there is nothing left to review); another writer's alert stays."""
    robin = Author(client_hash=uuid.uuid4().hex, guest_token=uuid.uuid4().hex)
    held = post_reply(thread, author=robin, checks=HOLD, name="Robin Hidalgo", body="Held text.").reply
    reported = post_reply(thread, author=robin, name="Robin Hidalgo", body="Reported text.").reply
    flag_reply(reported, "harassment", note="It names my neighbour")
    post_reply(thread, checks=HOLD, name="Bea", email="bea@example.org", body="Other text.")
    assert len(unsent_mails_naming("Hidalgo")) == 2

    delete_as_writer(held)
    delete_as_writer(reported)
    assert unsent_mails_naming("Hidalgo") == []
    assert unsent_mails_quoting("Held text.") == [] and unsent_mails_quoting("Reported text.") == []
    [left] = mails_to("moira@example.org")
    assert "Bea" in left.text_body and left.status == OutgoingMail.Status.PENDING


def test_a_queued_daily_summary_naming_a_deleted_reply_is_dropped_and_made_again(thread, post_reply, moderator):
    set_mode(DiscussionSettings.ModeratorAlerts.DAILY)
    held = post_reply(thread, checks=HOLD, name="Robin Hidalgo", body="Held text.").reply
    post_reply(thread, checks=HOLD, name="Bea", email="bea@example.org", body="Other text.")
    now = timezone.make_aware(datetime.combine(timezone.localdate(), time(12)))
    assert alerts.send_daily_summaries(now) == 1

    delete_as_writer(held)
    assert unsent_mails_naming("Hidalgo") == [] and unsent_mails_quoting("Held text.") == []
    alerts.send_daily_summaries(now + timedelta(minutes=60))  # the worker's next hourly run
    [summary] = mails_to("moira@example.org")
    assert "1 waiting" in summary.subject and "Bea" in summary.text_body and "Hidalgo" not in summary.text_body


def test_a_moderator_deleting_a_reply_drops_only_the_alerts_about_it(thread, post_reply, moderator):
    """Deleting from the moderation screens goes the same way: the alert about the deleted reply
    goes with it, a sent one stays sent, another reply's alert is untouched."""
    from speakout.discussion import moderation

    sent = post_reply(thread, checks=HOLD, name="Sam", email="sam@example.org", body="Sent already.").reply
    OutgoingMail.objects.update(status=OutgoingMail.Status.SENT)
    held = post_reply(thread, checks=HOLD, name="Robin Hidalgo", body="Held text.").reply
    post_reply(thread, checks=HOLD, name="Bea", email="bea@example.org", body="Other text.")
    for reply in (sent, held):
        trashed = moderation.perform(moderation.ACTIONS["trash"], Reply.objects.get(pk=reply.pk), actor=moderator)
        assert moderation.perform(moderation.ACTIONS["delete"], trashed, actor=moderator) is None
    assert unsent_mails_naming("Hidalgo") == []
    statuses = {mail.text_body.count("Sam") > 0: mail.status for mail in mails_to("moira@example.org")}
    assert statuses == {True: OutgoingMail.Status.SENT, False: OutgoingMail.Status.PENDING}
    assert len(unsent_mails_naming("Bea")) == 1
