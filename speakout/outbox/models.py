"""The outbox table: one row per outgoing mail, to one address."""

from __future__ import annotations

from email.utils import parseaddr

from django.conf import settings
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

#: Headers a caller may set; everything else (From, To, Subject, Message-ID, Date) is ours.
ALLOWED_HEADERS = ("List-Unsubscribe", "List-Unsubscribe-Post", "Reply-To")
SUBJECT_MAX_LENGTH = 500
ERROR_MAX_LENGTH = 1000


class OutgoingMail(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    to = models.EmailField(_("to"), max_length=254)
    subject = models.CharField(_("subject"), max_length=SUBJECT_MAX_LENGTH)
    text_body = models.TextField(_("text body"))
    html_body = models.TextField(_("HTML body"), blank=True)
    headers = models.JSONField(_("headers"), default=dict, blank=True)
    language = models.CharField(_("language"), max_length=35, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    # When a worker claimed the row: a claim older than the claim timeout means it died mid-send.
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # Generated once, so a retry after a crash sends the same message, not a second one.
    message_id = models.CharField(_("Message-ID"), max_length=255, editable=False)
    # Callers that may run twice (a retried request, a re-run job) pass one to queue once.
    dedupe_key = models.CharField(_("deduplication key"), max_length=255, null=True, blank=True)

    class Meta:
        verbose_name = _("outgoing mail")
        verbose_name_plural = _("outgoing mail")
        ordering = ["-created_at", "-pk"]
        # Constraints rather than unique=True, which on PostgreSQL adds a second index to each
        # column for LIKE look-ups that no query makes; a mail's insert, claim and sent mark each
        # write a row version with an entry in every index.
        constraints = [
            models.UniqueConstraint(fields=["message_id"], name="speakout_outbox_message_id_once"),
            models.UniqueConstraint(fields=["dedupe_key"], name="speakout_outbox_dedupe_key_once"),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="speakout_outbox_due"),
            # "Forget me" deletes the mail queued to an address in any spelling of its case
            # (``privacy.services``); without this index, a scan of every mail.
            models.Index(Upper("to"), name="speakout_outbox_to_upper"),
        ]

    def __str__(self) -> str:
        return self.subject


def domain_of(address: str) -> str:
    """The domain of an address, or of a header value such as ``Name <address>``, lower-cased."""
    return parseaddr(address)[1].rpartition("@")[2].strip().lower()


def from_domain() -> str:
    """The domain of ``SPEAKOUT_EMAIL_FROM``: the one the mail server (SPF, DKIM) speaks for."""
    return domain_of(settings.DEFAULT_FROM_EMAIL)


def at_from_domain(address: str) -> bool:
    return bool(address) and address.rpartition("@")[2].strip().lower() == from_domain()


class SenderSettings(models.Model):
    """The sender every mail shows, as the admin sets it (Settings → Mail sender); one row.

    The address must be at ``SPEAKOUT_EMAIL_FROM``'s domain: mail from any other domain would
    fail the receivers' SPF and DKIM checks and land in spam, or nowhere."""

    name = models.CharField(
        _("sender name"),
        max_length=100,
        blank=True,
        help_text=_("Shown as who the mail is from. Empty: the site name (Settings → Sites)."),
    )
    address = models.EmailField(
        _("sender address"),
        max_length=254,
        blank=True,
        help_text=_("Must be at the domain of the server's sending address. Empty: that address."),
    )

    class Meta:
        verbose_name = _("mail sender")
        verbose_name_plural = _("mail sender")

    def __str__(self) -> str:
        return str(_("Mail sender"))

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        self.name = " ".join(self.name.split())
        self.address = self.address.strip()
        if self.address and not at_from_domain(self.address):
            raise ValidationError(
                {
                    "address": _(
                        "The address must end in @%(domain)s, the domain this server sends for "
                        "(SPEAKOUT_EMAIL_FROM); mail from another domain would be refused or filed as spam."
                    )
                    % {"domain": from_domain()}
                }
            )

    @classmethod
    def load(cls) -> SenderSettings:
        """The row, created empty if there is none (read per mail sent: no cache to go stale)."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)


class Suppression(models.Model):
    """An address the outbox sends nothing to: it bounced for good, or its owner marked our mail
    as spam. Written by the bounce processing (``speakout.outbox.bounces``); an admin lifts it.
    The address's owner is told nothing either way."""

    class Reason(models.TextChoices):
        HARD_BOUNCE = "hard_bounce", _("The address does not exist or refuses mail for good")
        COMPLAINT = "complaint", _("Its owner marked a mail as spam")
        SOFT_BOUNCES = "soft_bounces", _("Mail to it bounced three times")

    # Lower-cased: a suppression must hold whatever case a later mail spells the address in.
    address = models.EmailField(_("address"), max_length=254, unique=True)
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    detail = models.TextField(_("detail"), blank=True)
    created_at = models.DateTimeField(_("suppressed at"), default=timezone.now)

    class Meta:
        verbose_name = _("suppressed address")
        verbose_name_plural = _("suppressed addresses")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.address


class SoftBounce(models.Model):
    """A temporary failure of one outgoing mail. Three of them (three mails) suppress the address;
    one row per mail, so a bounce read twice (or a delay notice and a failure) counts once."""

    address = models.EmailField(_("address"), max_length=254, db_index=True)
    mail_id = models.BigIntegerField(_("outgoing mail"), unique=True)
    detail = models.TextField(_("detail"), blank=True)
    received_at = models.DateTimeField(_("received at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("soft bounce")
        verbose_name_plural = _("soft bounces")

    def __str__(self) -> str:
        return self.address
