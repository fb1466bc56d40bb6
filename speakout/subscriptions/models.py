"""Who wants mail about what: a thread's new replies, new posts (site-wide or one category), the
answers to one's own reply, or the moderators' decision on it.

A row is created unconfirmed by a request and receives nothing but its one confirmation mail
until the address confirms. Unsubscribing keeps the row (with ``unsubscribed_at``) so old links
still open a page that says so; a new request creates a new row.
"""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from speakout.discussion.models import Reply, Thread


def new_secret() -> str:
    return secrets.token_urlsafe(24)


class Subscription(models.Model):
    class Kind(models.TextChoices):
        THREAD = "thread", _("New replies in a discussion")
        POSTS = "posts", _("New posts")
        # Both about one reply, asked for by its writer with the reply form's boxes.
        ANSWERS = "answers", _("Answers to my reply")
        OUTCOME = "outcome", _("The moderators' decision on my reply")

    class Frequency(models.TextChoices):
        INSTANT = "instant", _("At once")
        DAILY = "daily", _("Daily digest")
        WEEKLY = "weekly", _("Weekly digest")

    email = models.EmailField(_("email"), max_length=254)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    thread = models.ForeignKey(
        Thread, verbose_name=_("thread"), null=True, blank=True, on_delete=models.CASCADE, related_name="subscriptions"
    )
    # The writer's own reply, for ANSWERS and OUTCOME (``thread`` is then the reply's thread).
    reply = models.ForeignKey(
        Reply, verbose_name=_("reply"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    category = models.SlugField(_("category"), max_length=100, blank=True, help_text=_("Empty: the whole site."))
    # What the row is about, as one value ("thread:12", "posts:", "posts:housing", "answers:7"), so one unique
    # constraint covers every kind on every database.
    target = models.CharField(_("target"), max_length=120, editable=False)
    frequency = models.CharField(_("frequency"), max_length=10, choices=Frequency.choices, default=Frequency.INSTANT)
    language = models.CharField(_("language"), max_length=35, blank=True)
    secret = models.CharField(_("secret"), max_length=64, default=new_secret, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    unsubscribed_at = models.DateTimeField(_("unsubscribed at"), null=True, blank=True)
    last_digest_at = models.DateTimeField(_("last digest at"), null=True, blank=True)

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["email", "target"],
                condition=Q(unsubscribed_at__isnull=True),
                name="speakout_subscription_one_active",
            )
        ]
        # The data rights pages read an address's subscriptions in any spelling of its case
        # (``privacy.services``); without this index, a scan of every subscription.
        indexes = [models.Index(Upper("email"), name="subscriptions_email_upper")]

    def __str__(self) -> str:
        return f"{self.email} → {self.target}"

    @staticmethod
    def target_for(kind: str, thread: Thread | None = None, category: str = "", reply: Reply | None = None) -> str:
        if kind == Subscription.Kind.THREAD:
            return f"thread:{thread.pk}"
        if kind in (Subscription.Kind.ANSWERS, Subscription.Kind.OUTCOME):
            return f"{kind}:{reply.pk}"
        return f"posts:{category}"

    @property
    def is_active(self) -> bool:
        return self.confirmed_at is not None and self.unsubscribed_at is None


class NotifiedReply(models.Model):
    """A reply whose approval subscribers hear about once: approving it again sends nothing.

    Written with the approval; the mails follow in the background (``notified_at`` is empty until
    they are queued), so a reply to a thread with many subscribers is stored as fast as any."""

    reply = models.OneToOneField(Reply, on_delete=models.CASCADE, related_name="+", verbose_name=_("reply"))
    notified_at = models.DateTimeField(_("notified at"), null=True, blank=True, default=None)
    # Approved by a moderator after it waited: its writer, if they asked, hears it is published.
    was_held = models.BooleanField(_("was held"), default=False)

    class Meta:
        verbose_name = _("notified reply")
        verbose_name_plural = _("notified replies")
        indexes = [
            # The worker's queue: only the rows still waiting, so it stays tiny.
            models.Index(fields=["id"], condition=models.Q(notified_at__isnull=True), name="subscriptions_reply_due"),
        ]

    def __str__(self) -> str:
        return f"#{self.reply_id}"


class AnswerNotice(models.Model):
    """An approved answer owed to the writer of the reply it answers (``subscription``, of kind
    ANSWERS). The worker mails it at once, or, when a mail about the same thread went to the same
    address less than ``ANSWER_MINUTES`` ago, with the others waiting then, in one digest."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="+")
    answer = models.ForeignKey(Reply, on_delete=models.CASCADE, related_name="+", verbose_name=_("answer"))
    # The subscription's, kept here so that the mails to one address about one thread are one query.
    email = models.EmailField(_("email"), max_length=254)
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    mailed_at = models.DateTimeField(_("mailed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("answer notice")
        verbose_name_plural = _("answer notices")
        constraints = [
            models.UniqueConstraint(fields=["subscription", "answer"], name="speakout_answer_notice_once"),
        ]
        indexes = [
            models.Index(fields=["email", "thread", "mailed_at"], name="subscriptions_answer_sent"),
            models.Index(fields=["id"], condition=models.Q(mailed_at__isnull=True), name="subscriptions_answer_due"),
        ]

    def __str__(self) -> str:
        return f"#{self.answer_id} → {self.email}"


class Announcement(models.Model):
    """A first publication (one per post, ever), or a post sent by email only: instant mails go
    out when it is recorded, and the digests carry the announcements made since a subscriber's
    last digest."""

    key = models.CharField(_("key"), max_length=255, unique=True)
    title = models.CharField(_("title"), max_length=500)
    url = models.URLField(
        _("address"), max_length=1000, blank=True, help_text=_("Empty for a post sent by email only.")
    )
    summary = models.TextField(_("summary"), blank=True)
    # The whole post as mailed: an HTML fragment and its plain text, rendered once when announced.
    html = models.TextField(_("content (HTML)"), blank=True)
    text = models.TextField(_("content (text)"), blank=True)
    email_only = models.BooleanField(_("sent by email only"), default=False)
    categories = models.JSONField(_("categories"), default=list, blank=True)
    published_at = models.DateTimeField(_("published at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("announcement")
        verbose_name_plural = _("announcements")
        ordering = ["published_at", "pk"]

    def __str__(self) -> str:
        return self.title
