"""Bounces and complaints: each mail's signed return path (VERP), real DSNs and ARF reports
read, addresses suppressed (hard bounces and complaints at once, soft bounces after three
mails), the outbox sending nothing to a suppressed address, and the admin lifting one."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from django.core import mail as django_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from speakout.outbox import bounces, jobs, verp
from speakout.outbox.models import OutgoingMail, SoftBounce, Suppression
from speakout.outbox.services import queue_mail, send_due_mail
from tests.outbox.returned import arf_report, exim_bounce, postfix_dsn, qmail_bounce

pytestmark = pytest.mark.django_db

Status = OutgoingMail.Status
Kind = bounces.Kind


@pytest.fixture(autouse=True)
def bounce_address(settings):
    settings.SPEAKOUT_BOUNCE_ADDRESS = "bounces@example.org"
    return settings


def send(to: str, subject: str = "A new reply") -> tuple[OutgoingMail, str, bytes]:
    """Queue and send a mail (locmem backend); its row, envelope sender and bytes as sent."""
    before = len(django_mail.outbox)
    with transaction.atomic():
        mail = queue_mail(to, subject, "Plain words", "<p>HTML words</p>")
    send_due_mail()
    message = django_mail.outbox[before]
    mail.refresh_from_db()
    assert mail.status == Status.SENT
    return mail, message.from_email, message.message().as_bytes(linesep="\r\n")


def hard_bounce(to: str) -> tuple[OutgoingMail, bytes]:
    mail, return_path, original = send(to)
    return mail, postfix_dsn(return_path, original, recipient=to)


def mails_to(address: str) -> list:
    return [message for message in django_mail.outbox if address in message.to]


# The return path ------------------------------------------------------------------------------


def test_each_mail_leaves_with_its_own_signed_return_path(smtp_server):
    """The envelope sender (where bounces go) names the mail; the From header stays the
    organisation's; the tag is an HMAC, so another mail's id gives another, unguessable tag."""
    with transaction.atomic():
        first = queue_mail("ada@example.net", "One", "Text")
        second = queue_mail("bob@example.net", "Two", "Text")
    send_due_mail()
    envelopes = {envelope.rcpt_tos[0]: envelope for envelope in smtp_server.envelopes}
    for mail in (first, second):
        envelope = envelopes[mail.to]
        assert envelope.mail_from == verp.return_path(mail.pk, mail.to)
        assert envelope.mail_from.startswith(f"bounces+m{mail.pk:x}-")
        assert envelope.mail_from.endswith("@example.org")
        assert verp.mail_id_from(envelope.mail_from) == mail.pk
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert message["From"] == "Speakout <speakout@example.org>"
    tag = verp.return_path(first.pk).split("-", 1)[1]
    assert verp.mail_id_from(f"bounces+m{second.pk:x}-{tag}") is None


def test_without_a_bounce_address_the_envelope_sender_is_the_from_address(smtp_server, settings):
    settings.SPEAKOUT_BOUNCE_ADDRESS = ""
    with transaction.atomic():
        queue_mail("ada@example.net", "One", "Text")
    send_due_mail()
    [envelope] = smtp_server.envelopes
    assert envelope.mail_from == "speakout@example.org"


def test_a_long_bounce_address_leaves_the_recipient_tag_out_rather_than_pass_64_characters(settings):
    settings.SPEAKOUT_BOUNCE_ADDRESS = "organisation-newsletter-bounces@example.org"
    path = verp.return_path(0x4D2, "ada@example.net")
    assert path.count("-") == 3 and len(path.partition("@")[0]) <= 64
    assert verp.mail_id_from(path) == 0x4D2
    settings.SPEAKOUT_BOUNCE_ADDRESS = "bounces@example.org"
    path = verp.return_path(0xFFFFFFFF, "ada@example.net")
    assert len(path.partition("@")[0]) <= 64 and verp.signed(path)[0][1]


def test_a_tag_made_with_an_older_key_still_counts(settings):
    """A key rotation (SECRET_KEY_FALLBACKS) does not lose the bounces of mail sent before it."""
    old = verp.return_path(41)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
    assert verp.mail_id_from(old) == 41
    settings.SECRET_KEY_FALLBACKS = []
    assert verp.mail_id_from(old) is None


# Hard bounces and complaints ------------------------------------------------------------------


def test_a_hard_bounce_suppresses_the_address_and_nothing_more_is_sent():
    mail, dsn = hard_bounce("Ada@Example.net")
    outcome = bounces.process(dsn)
    assert outcome == bounces.Outcome(Kind.HARD, mail.pk, True)
    suppression = Suppression.objects.get()
    assert suppression.address == "ada@example.net"
    assert suppression.reason == Suppression.Reason.HARD_BOUNCE
    assert "5.1.1" in suppression.detail and "User unknown" in suppression.detail

    sent_before = len(django_mail.outbox)
    with transaction.atomic():
        later = queue_mail("ADA@example.net", "Another reply", "Text")
    send_due_mail()
    later.refresh_from_db()
    assert later.status == Status.FAILED, "settled, not retried"
    assert "suppressed" in later.last_error
    assert len(django_mail.outbox) == sent_before, "the owner is told nothing, and gets nothing"
    assert OutgoingMail.objects.filter(status=Status.PENDING).count() == 0


def test_a_bounce_s_words_are_kept_without_any_address():
    """The diagnostic a returned mail quotes is kept with the suppression (and a soft bounce), but
    not the addresses in it: the recipient, in whatever case, and any address it forwards to."""
    mail, return_path, original = send("Ada@Example.net")
    diagnostic = "smtp; 550 5.1.1 <ADA@example.NET>: forwarded to <ada.private@elsewhere.example>: User unknown"
    bounces.process(postfix_dsn(return_path, original, recipient=mail.to, diagnostic=diagnostic))
    detail = Suppression.objects.get().detail
    assert "5.1.1" in detail and "User unknown" in detail
    assert "<<recipient>>" in detail
    assert "ada" not in detail.lower() and "elsewhere.example" not in detail

    _mail_id, soft = soft_dsn("bo@example.net", diagnostic="smtp; 452 4.2.2 <BO@example.net> Mailbox full")
    bounces.process(soft)
    assert SoftBounce.objects.get().detail == "4.2.2 smtp; 452 4.2.2 <<recipient>> Mailbox full"


def test_a_mail_waiting_for_a_retry_is_settled_once_its_address_is_suppressed(failing_backend):
    """A mail that failed and waits for its next attempt is not retried for a day once its
    address is suppressed: the next sweep marks it failed."""
    with transaction.atomic():
        waiting = queue_mail("ada@example.net", "Hello", "Text")
    send_due_mail()
    waiting.refresh_from_db()
    assert waiting.status == Status.PENDING and waiting.attempts == 1
    bounces.suppress("ada@example.net", Suppression.Reason.HARD_BOUNCE)
    OutgoingMail.objects.filter(pk=waiting.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    counts = send_due_mail()
    waiting.refresh_from_db()
    assert waiting.status == Status.FAILED
    assert waiting.attempts == 1, "no further attempt was made"
    assert counts["suppressed"] == 1
    jobs.send_due_mail()
    waiting.refresh_from_db()
    assert waiting.status == Status.FAILED


def test_the_send_limit_is_not_spent_on_suppressed_addresses(settings):
    settings.SPEAKOUT_EMAIL_RATE_PER_MINUTE = 1
    bounces.suppress("gone@example.net", Suppression.Reason.COMPLAINT)
    with transaction.atomic():
        queue_mail("gone@example.net", "One", "Text")
        queue_mail("ada@example.net", "Two", "Text")
    send_due_mail()
    assert [message.to for message in django_mail.outbox] == [["ada@example.net"]]


def test_a_complaint_report_suppresses_the_address():
    """A feedback loop's report goes to its registered address, not to the return path: the mail
    is found from the return path of the attached original."""
    mail, return_path, original = send("bob@example.net")
    report = arf_report(return_path, original, recipient="bob@example.net")
    assert verp.mail_id_from(report.split(b"\r\n\r\n", 1)[0].decode()) is None, "not in the outer headers"
    assert bounces.process(report) == bounces.Outcome(Kind.COMPLAINT, mail.pk, True)
    suppression = Suppression.objects.get(address="bob@example.net")
    assert suppression.reason == Suppression.Reason.COMPLAINT
    assert "abuse" in suppression.detail


def test_a_complaint_found_only_in_the_attached_original():
    mail, return_path, original = send("bob@example.net")
    report = arf_report(return_path, original, recipient="bob@example.net")
    report = report.replace(f"Original-Mail-From: <{return_path}>".encode(), b"Original-Mail-From: <redacted>")
    assert bounces.process(report).kind == Kind.COMPLAINT
    assert Suppression.objects.filter(address="bob@example.net").exists()


@pytest.mark.parametrize(
    "returned",
    [
        pytest.param(
            lambda rp, original, to: arf_report(rp, original, recipient=to, feedback_type="not-spam"), id="not-spam"
        ),
        pytest.param(
            lambda rp, original, to: postfix_dsn(
                rp, original, recipient=to, action="delayed", status="4.4.1", diagnostic="X-Postfix; connect timed out"
            ),
            id="delay-notice",
        ),
        pytest.param(
            lambda rp, original, to: (
                f"Delivered-To: {rp}\r\nFrom: {to}\r\nTo: {rp}\r\nSubject: Out of office\r\n"
                "Auto-Submitted: auto-replied\r\n\r\nI am away until Monday.\r\n"
            ).encode(),
            id="auto-reply",
        ),
    ],
)
def test_what_is_not_a_bounce_changes_nothing(returned):
    mail, return_path, original = send("ada@example.net")
    assert bounces.process(returned(return_path, original, "ada@example.net")).kind == Kind.NOT_A_BOUNCE
    assert not Suppression.objects.exists() and not SoftBounce.objects.exists()


# Soft bounces ---------------------------------------------------------------------------------


def soft_dsn(to: str, status: str = "4.2.2", diagnostic: str = "smtp; 452 4.2.2 Mailbox full") -> tuple[int, bytes]:
    mail, return_path, original = send(to)
    return mail.pk, postfix_dsn(return_path, original, recipient=to, status=status, diagnostic=diagnostic)


def test_soft_bounces_suppress_after_three_different_mails():
    first_id, first = soft_dsn("ada@example.net")
    assert bounces.process(first) == bounces.Outcome(Kind.SOFT, first_id, False)
    assert bounces.process(first).suppressed is False, "the same mail's bounce read twice counts once"
    _, second = soft_dsn("ada@example.net")
    assert bounces.process(second).suppressed is False
    assert not Suppression.objects.exists()
    _, third = soft_dsn("ada@example.net", "5.2.2", "smtp; 552 5.2.2 Mailbox full")
    assert bounces.process(third).suppressed is True
    suppression = Suppression.objects.get()
    assert (suppression.address, suppression.reason) == ("ada@example.net", Suppression.Reason.SOFT_BOUNCES)


def test_old_soft_bounces_no_longer_count():
    for _ in range(2):
        bounces.process(soft_dsn("ada@example.net")[1])
    SoftBounce.objects.update(received_at=timezone.now() - timedelta(days=31))
    assert bounces.process(soft_dsn("ada@example.net")[1]).suppressed is False


def test_a_block_of_our_server_is_not_held_against_the_reader():
    """A permanent refusal about the sender or the message (policy, spam filter) is soft:
    readers must not all be suppressed because our server landed on a block list."""
    _, dsn = soft_dsn("ada@example.net", "5.7.1", "smtp; 554 5.7.1 Service unavailable; client host blocked using zen")
    assert bounces.process(dsn).kind == Kind.SOFT


# Forgery --------------------------------------------------------------------------------------


def test_a_forged_bounce_suppresses_nobody():
    """A made-up tag, a tag of another mail, or a report naming someone else's address in its
    fields: only a signed return path counts, and it names the mail, whose row names the
    address. The forger can at most suppress their own address."""
    victim_mail, victim_return_path, victim_original = send("victim@example.net")
    forger_mail, forger_return_path, forger_original = send("forger@example.net")
    made_up = f"bounces+m{victim_mail.pk:x}-{'0' * verp.TAG_LENGTH}@example.org"
    assert bounces.process(postfix_dsn(made_up, victim_original, recipient="victim@example.net")).kind == (
        Kind.UNKNOWN_MAIL
    )
    stolen_tag = forger_return_path.split("-", 1)[1]
    other_mail = f"bounces+m{victim_mail.pk:x}-{stolen_tag}"
    assert bounces.process(postfix_dsn(other_mail, victim_original, recipient="victim@example.net")).kind == (
        Kind.UNKNOWN_MAIL
    )
    naming_victim = postfix_dsn(forger_return_path, victim_original, recipient="victim@example.net")
    assert bounces.process(naming_victim).mail_id == forger_mail.pk
    assert list(Suppression.objects.values_list("address", flat=True)) == ["forger@example.net"]


def test_a_bounce_of_a_mail_no_longer_kept_still_suppresses_its_address():
    """The mail was purged (sent mail is kept 30 days) before its bounce came: the return path
    also signs the recipient, so the address the report names is believed only if it is the one
    the mail went to."""
    mail, dsn = hard_bounce("Ada@example.net")
    OutgoingMail.objects.filter(pk=mail.pk).delete()
    assert bounces.process(dsn) == bounces.Outcome(Kind.HARD, mail.pk, True)
    assert list(Suppression.objects.values_list("address", flat=True)) == ["ada@example.net"]


def test_a_forged_bounce_of_a_purged_mail_suppresses_nobody():
    """Whoever received a mail knows its return path; once the mail is purged they cannot make
    its bounce name someone else: the recipient's tag does not match."""
    forger_mail, forger_return_path, forger_original = send("forger@example.net")
    OutgoingMail.objects.filter(pk=forger_mail.pk).delete()
    naming_victim = postfix_dsn(forger_return_path, forger_original, recipient="victim@example.net")
    bounces.process(naming_victim)
    # At most their own address, named by the attached original's To.
    assert not Suppression.objects.exclude(address="forger@example.net").exists()
    headers_only = naming_victim.replace(b"To: forger@example.net", b"To: victim@example.net")
    assert bounces.process(headers_only) == bounces.Outcome(Kind.UNKNOWN_MAIL, forger_mail.pk)
    assert not Suppression.objects.filter(address="victim@example.net").exists()
    Suppression.objects.all().delete()
    # A return path from before recipients were signed names no address once its mail is gone.
    old_style = forger_return_path.rsplit("-", 1)[0] + "@example.org"
    assert verp.mail_id_from(old_style) == forger_mail.pk
    dsn = postfix_dsn(old_style, forger_original, recipient="forger@example.net")
    assert bounces.process(dsn).kind == Kind.UNKNOWN_MAIL
    assert not Suppression.objects.exists()


def test_soft_bounces_of_purged_mails_still_count():
    for number in range(3):
        mail, return_path, original = send("full@example.net", subject=f"Mail {number}")
        OutgoingMail.objects.filter(pk=mail.pk).delete()
        bounces.process(postfix_dsn(return_path, original, recipient="full@example.net", status="4.2.2"))
    assert Suppression.objects.get().reason == Suppression.Reason.SOFT_BOUNCES


# The admin ------------------------------------------------------------------------------------


def test_the_admin_lists_suppressed_addresses_and_lifts_one(admin_client):
    _, dsn = hard_bounce("ada@example.net")
    bounces.process(dsn)
    bounces.process(soft_dsn("bob@example.net")[1])
    bounces.suppress("bob@example.net", Suppression.Reason.COMPLAINT)
    url = reverse("speakout_outbox:index") + "?status=suppressed"
    html = admin_client.get(url).content.decode()
    assert "ada@example.net" in html and "bob@example.net" in html
    assert "The address does not exist or refuses mail for good" in html
    assert "Its owner marked a mail as spam" in html
    assert "User unknown in virtual mailbox table" in html

    sent_before = len(django_mail.outbox)
    bob = Suppression.objects.get(address="bob@example.net")
    response = admin_client.post(url, {"lift": str(bob.pk)})
    assert response.status_code == 302
    assert list(Suppression.objects.values_list("address", flat=True)) == ["ada@example.net"]
    assert not SoftBounce.objects.filter(address="bob@example.net").exists(), "counting starts again"
    assert len(django_mail.outbox) == sent_before, "lifting tells the owner nothing"
    mail, _, _ = send("bob@example.net")
    assert mail.status == Status.SENT


def test_lifting_needs_the_outbox_permission(client, django_user_model):
    bounces.suppress("ada@example.net", Suppression.Reason.COMPLAINT)
    editor = django_user_model.objects.create_user("editor", password="pw", is_staff=True)
    client.force_login(editor)
    response = client.post(reverse("speakout_outbox:index") + "?status=suppressed", {"lift": "1"})
    assert response.status_code in (302, 403)
    assert Suppression.objects.exists()


# The mailbox setting --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, message",
    [
        ("pop3://u:p@mail.example.org/INBOX", "must start with imaps:// or imap://"),
        ("imaps://mail.example.org/INBOX", "needs a user, a password and a host"),
        ("imaps://u:p@mail.example.org:99999/INBOX", "SPEAKOUT_BOUNCE_IMAP_URL:"),
    ],
)
def test_a_mailbox_url_that_cannot_work_stops_the_start(settings, url, message):
    from django.core.checks import run_checks

    settings.SPEAKOUT_BOUNCE_IMAP_URL = url
    errors = [error for error in run_checks() if error.id == "speakout_outbox.E001"]
    assert len(errors) == 1 and message in errors[0].msg


def test_a_mailbox_url_is_read_with_quoted_credentials_and_defaults():
    from speakout.outbox.imap import parse_url

    mailbox = parse_url("imaps://bounces%40example.org:p%3Ass%2Fw@mail.example.org/Bounces%20In")
    assert (mailbox.user, mailbox.password, mailbox.host, mailbox.port, mailbox.folder, mailbox.tls) == (
        "bounces@example.org",
        "p:ss/w",
        "mail.example.org",
        993,
        "Bounces In",
        True,
    )
    plain = parse_url("imap://u:p@127.0.0.1/")
    assert (plain.port, plain.folder, plain.tls, plain.loopback) == (143, "INBOX", False, True)
    assert parse_url("imap://u:p@mail.example.org/").loopback is False


# Plain-text bounces (no RFC 3464 report) -------------------------------------------------------


def test_a_qmail_bounce_suppresses_the_address():
    mail, return_path, original = send("gone@example.net")
    outcome = bounces.process(qmail_bounce(return_path, original, recipient="gone@example.net"))
    assert outcome == bounces.Outcome(Kind.HARD, mail.pk, True)
    assert "5.1.1" in Suppression.objects.get(address="gone@example.net").detail


def test_an_exim_bounce_counts_and_one_without_an_enhanced_code_is_soft():
    mail, return_path, original = send("gone@example.net")
    assert bounces.process(exim_bounce(return_path, original, recipient="gone@example.net")).kind == Kind.HARD
    other, return_path, original = send("full@example.net")
    vague = qmail_bounce(return_path, original, recipient="full@example.net", remote="Remote host said: 552 Quota")
    assert bounces.process(vague) == bounces.Outcome(Kind.SOFT, other.pk, False)


def test_a_plain_text_bounce_found_by_the_message_id_of_the_returned_mail():
    """Sent to the bare bounce address (no return path of ours in its headers): the returned mail's
    Message-ID, which only its recipient could know, names the mail and so the address."""
    mail, return_path, original = send("gone@example.net")
    original_without_path = original.replace(return_path.encode(), b"someone@example.org")
    dsn = exim_bounce("bounces@example.org", original_without_path, recipient="gone@example.net", headers_only=True)
    assert bounces.process(dsn) == bounces.Outcome(Kind.HARD, mail.pk, True)


def test_plain_text_lookalikes_change_nothing():
    """A delay warning; a bounce naming no mail of ours; a person quoting a bounce's words."""
    mail, return_path, original = send("slow@example.net")
    assert bounces.process(exim_bounce(return_path, original, recipient="slow@example.net", delayed=True)).kind == (
        Kind.NOT_A_BOUNCE
    )
    stranger = exim_bounce("bounces@example.org", b"Subject: hello\r\n\r\nhi\r\n", recipient="victim@example.net")
    assert bounces.process(stranger).kind == Kind.UNKNOWN_MAIL
    person = (
        f"From: Ada <ada@example.net>\r\nTo: {return_path}\r\nSubject: Re: A new reply\r\n\r\n"
        "My server said: This message was created automatically by mail delivery software. 550 5.1.1\r\n"
    ).encode()
    assert bounces.process(person).kind == Kind.NOT_A_BOUNCE
    assert not Suppression.objects.exists()
