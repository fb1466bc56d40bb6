"""What the safety checks keep: the editors' settings, the spam model and each reply's assessment."""

from __future__ import annotations

from django.core.cache import cache
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from speakout.discussion.models import Reply


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
        instance = cache.get(cls.CACHE_KEY)
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
