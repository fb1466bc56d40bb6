"""What the safety checks keep: the editors' settings, the spam model and each reply's assessment."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from speakout.discussion.models import Commenter, Reply
from speakout.net import sharedreads


class SafetySettings(models.Model):
    """One row, edited by moderators in the admin next to the discussion settings."""

    personal_data_guard = models.BooleanField(
        _("warn about personal data"),
        default=True,
        help_text=_(
            "Before a reply is published, look for phone numbers, email addresses, street addresses and protected "
            "names; the writer is told and may edit, or post anyway and wait for review."
        ),
    )
    protected_names = models.TextField(
        _("protected names"),
        blank=True,
        help_text=_(
            "One name per line. A reply naming one of these people waits for review. Capitals and accents are ignored."
        ),
    )
    spam_filter = models.BooleanField(_("use the spam filter"), default=True)
    spam_hold_score = models.PositiveSmallIntegerField(
        _("hold replies with a spam score of at least"),
        default=60,
        help_text=_("In percent. 0 turns holding off."),
    )
    spam_score = models.PositiveSmallIntegerField(
        _("send replies with a spam score of at least this to spam"),
        default=95,
        help_text=_("In percent. 0 turns this off (such replies are held instead)."),
    )
    blur_held_content = models.BooleanField(
        _("blur reported and held replies in the queues"),
        default=True,
        help_text=_("Moderators see a blurred reply until they click to read it, one reply at a time."),
    )
    ban_needs_confirmation = models.BooleanField(
        _("a ban needs a second moderator"),
        default=False,
        help_text=_("A ban waits until another moderator confirms it. The moderator who asked cannot confirm it."),
    )
    pile_on_replies = models.PositiveSmallIntegerField(
        _("pile-on brake: replies to one person"),
        default=10,
        help_text=_(
            "When one person receives this many replies within the minutes below, further replies to them wait "
            "for review and moderators get a mail. 0 turns the brake off."
        ),
    )
    pile_on_minutes = models.PositiveSmallIntegerField(
        _("pile-on brake: within minutes"),
        default=30,
        validators=[MinValueValidator(1)],
    )

    class Meta:
        verbose_name = _("safety settings")
        verbose_name_plural = _("safety settings")

    CACHE_KEY = "speakout:safety:settings"

    def __str__(self) -> str:
        return str(_("Safety settings"))

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        cache.delete(self.CACHE_KEY)

    @classmethod
    def load(cls) -> SafetySettings:
        instance = sharedreads.get(cls.CACHE_KEY)
        if instance is None:
            instance = cls.objects.filter(pk=1).first() or cls.objects.get_or_create(pk=1)[0]
            cache.set(cls.CACHE_KEY, instance, 300)
        return instance

    @property
    def protected_name_list(self) -> list[str]:
        return [line.strip() for line in self.protected_names.splitlines() if line.strip()]


class SpamModel(models.Model):
    """The naive Bayes counts, one row. Rebuilt by the scheduled job, updated as moderators decide."""

    spam_documents = models.PositiveIntegerField(default=0)
    ham_documents = models.PositiveIntegerField(default=0)
    spam_tokens = models.JSONField(default=dict)
    ham_tokens = models.JSONField(default=dict)
    trained_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("spam model")

    def __str__(self) -> str:
        return str(_("Spam model"))


class ReplyAssessment(models.Model):
    """What the safety checks found when a reply came in, and how the spam model learnt from it."""

    class Trained(models.TextChoices):
        NO = "", _("not used")
        SPAM = "spam", _("spam")
        HAM = "ham", _("not spam")

    reply = models.OneToOneField(Reply, on_delete=models.CASCADE, related_name="safety_assessment")
    spam_score = models.FloatField(null=True, blank=True)
    spam_reasons = models.JSONField(default=list, blank=True)
    personal_data = models.JSONField(default=list, blank=True)
    trained_as = models.CharField(max_length=4, choices=Trained.choices, default="", blank=True)

    class Meta:
        verbose_name = _("reply assessment")

    def __str__(self) -> str:
        return f"#{self.reply_id}"

    @property
    def spam_percent(self) -> int | None:
        return None if self.spam_score is None else round(self.spam_score * 100)


# Evidence holds (docs/safety.md, "Evidence hold") ----------------------------------------------


class EvidenceHold(models.Model):
    """A reply taken off the public site and sealed, for a lawyer.

    ``content`` is the canonical JSON of what was sealed (the reply, its thread, author and
    reports, with their timestamps); ``content_sha256`` is the SHA-256 of exactly those bytes.
    Each seal also covers the previous hold's seal (``previous_seal``), so the holds form a chain:
    changing a stored hold, or removing one, breaks every later link. The sealed copy stands on its
    own: it survives even if the reply itself is later deleted.
    """

    reply = models.ForeignKey(Reply, null=True, blank=True, on_delete=models.SET_NULL, related_name="evidence_holds")
    content = models.TextField(editable=False)
    content_sha256 = models.CharField(max_length=64, editable=False)
    previous_seal = models.CharField(max_length=64, blank=True, editable=False)
    seal_sha256 = models.CharField(max_length=64, unique=True, editable=False)
    held_at = models.DateTimeField(editable=False)
    held_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    release_reason = models.CharField(_("reason for release"), max_length=500, blank=True)

    class Meta:
        ordering = ["-held_at", "-pk"]
        verbose_name = _("evidence hold")
        verbose_name_plural = _("evidence holds")
        permissions = [
            ("hold_evidence", _("Can hold replies as evidence and export them")),
            ("release_evidence", _("Can release replies held as evidence")),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} ({self.content_sha256[:12]})"

    @property
    def is_active(self) -> bool:
        return self.released_at is None


# Moderator care (docs/safety.md, "Moderator care") ---------------------------------------------


class RemovalNotice(models.Model):
    """A short, kind message a moderator may send to a commenter whose reply was removed."""

    title = models.CharField(
        _("name"), max_length=100, help_text=_("Shown to moderators only, in the list of notices.")
    )
    message = models.TextField(
        _("message"),
        max_length=2000,
        help_text=_(
            "What the commenter reads. The mail adds a greeting, the page and the start of their reply; it never "
            "names the moderator."
        ),
    )
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["sort_order", "pk"]
        verbose_name = _("removal notice")
        verbose_name_plural = _("removal notices")

    def __str__(self) -> str:
        return self.title


class PendingBan(models.Model):
    """A ban one moderator asked for, waiting for a second moderator to confirm it."""

    commenter = models.ForeignKey(Commenter, on_delete=models.CASCADE, related_name="pending_bans")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    requested_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("ban waiting for confirmation")
        verbose_name_plural = _("bans waiting for confirmation")
        constraints = [models.UniqueConstraint(fields=["commenter"], name="speakout_pendingban_one_per_commenter")]

    def __str__(self) -> str:
        return f"{self.commenter} ({self.requested_at:%Y-%m-%d})"
