"""What the federation keeps: its settings, the site actor's keys, the remote actors it has
met, its followers, the deliveries it owes, the reports it has published and the replies that
came from the Fediverse, digests of the remote notes their authors deleted, and a log of every
remote fetch and delivery."""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, HelpPanel
from wagtail.contrib.settings.models import BaseGenericSetting, register_setting

from speakout.discussion.models import Commenter, Reply


@register_setting(icon="globe")
class FederationSettings(BaseGenericSetting):
    enabled = models.BooleanField(_("federation on"), default=False)
    username = models.SlugField(
        _("handle"),
        max_length=60,
        default="reports",
        help_text=_("The name before @ in the site's Fediverse handle, as in @reports@example.org."),
    )
    display_name = models.CharField(_("name"), max_length=200, blank=True)
    summary = models.TextField(_("description"), blank=True)
    approve_followers = models.BooleanField(_("approve followers"), default=False)
    blocked_domains = models.TextField(_("blocked domains"), blank=True, help_text=_("One domain a line."))
    blocked_actors = models.TextField(_("blocked actors"), blank=True, help_text=_("One actor address a line."))
    federate_member_replies = models.BooleanField(
        _("let members federate their replies"),
        default=False,
        help_text=_(
            "Members with a verified site account may choose, reply by reply, to send it to the Fediverse. "
            "Replies by guests and under a pseudonym never leave the site."
        ),
    )
    also_known_as = models.TextField(
        _("also known as"),
        blank=True,
        help_text=_("The old actor's address, one a line, when moving followers from another server."),
    )

    panels = [
        FieldPanel("enabled"),
        FieldPanel("username"),
        FieldPanel("display_name"),
        FieldPanel("summary"),
        FieldPanel("approve_followers"),
        FieldPanel("blocked_domains"),
        FieldPanel("blocked_actors"),
        FieldPanel("federate_member_replies"),
        FieldPanel("also_known_as"),
        HelpPanel(template="federation/admin/rotate_key_panel.html", heading=_("Key")),
    ]

    class Meta:
        verbose_name = _("federation")

    def save(self, *args, **kwargs):
        from speakout.pagecache import versions

        super().save(*args, **kwargs)
        versions.bump("content")  # pages carry the handle and the ActivityStreams link

    def domain_list(self) -> list[str]:
        return [line.strip().lower() for line in self.blocked_domains.splitlines() if line.strip()]

    def actor_list(self) -> list[str]:
        return [line.strip() for line in self.blocked_actors.splitlines() if line.strip()]

    def is_blocked(self, actor_url: str) -> bool:
        from .urls_helpers import server_name

        host = server_name(actor_url)
        on_blocked_domain = any(host == domain or host.endswith("." + domain) for domain in self.domain_list())
        return on_blocked_domain or actor_url in self.actor_list()


class ActorKey(models.Model):
    """The site actor's RSA key; the newest unretired one signs. Older ones are kept retired."""

    private_pem = models.TextField(editable=False)
    public_pem = models.TextField(editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"key #{self.pk}"


class RemoteActor(models.Model):
    """An actor on another server, as last fetched (trusted until ``fetched_at`` + the cache time)."""

    url = models.URLField(max_length=1000, unique=True)
    domain = models.CharField(max_length=255, db_index=True)
    inbox = models.URLField(max_length=1000, blank=True)
    shared_inbox = models.URLField(max_length=1000, blank=True)
    username = models.CharField(max_length=200, blank=True)
    name = models.CharField(max_length=200, blank=True)
    profile_url = models.URLField(max_length=1000, blank=True)
    key_id = models.URLField(max_length=1000, blank=True, db_index=True)
    public_key_pem = models.TextField(blank=True)
    icon_url = models.URLField(max_length=1000, blank=True)
    avatar = models.BinaryField(null=True, blank=True, editable=False)
    avatar_type = models.CharField(max_length=100, blank=True)
    moved_to = models.URLField(max_length=1000, blank=True)
    commenter = models.OneToOneField(
        Commenter, null=True, blank=True, on_delete=models.SET_NULL, related_name="remote_actor"
    )
    fetched_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.handle

    @property
    def handle(self) -> str:
        return f"@{self.username}@{self.domain}" if self.username else self.url

    def _on_own_domain(self, address: str) -> str:
        from .urls_helpers import registrable_domain

        return address if address and registrable_domain(address) == registrable_domain(self.url) else ""

    @property
    def own_inbox(self) -> str:
        """The inbox, if it is on the actor's registrable domain: what is fetched now must be
        (``remote.store_actor``), a row kept from before may not, and is sent nothing."""
        return self._on_own_domain(self.inbox)

    @property
    def delivery_inbox(self) -> str:
        return self._on_own_domain(self.shared_inbox) or self.own_inbox


class Follower(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "pending"
        ACCEPTED = "accepted", "accepted"

    actor = models.OneToOneField(RemoteActor, on_delete=models.CASCADE, related_name="follower")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    follow_id = models.URLField(max_length=1000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.actor.handle


class Delivery(models.Model):
    """One activity owed to one inbox. Written in the transaction of what caused it; sent by the
    worker with retries and backoff; unique per (activity, inbox), so nothing is sent twice."""

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        SENDING = "sending", "sending"
        SENT = "sent", "sent"
        FAILED = "failed", "failed"

    activity_id = models.URLField(max_length=1000)
    inbox = models.URLField(max_length=1000)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now, db_index=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["activity_id", "inbox"], name="federation_delivery_once")]
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.activity_id} -> {self.inbox}"


class PublishedArticle(models.Model):
    """A report as the Fediverse last heard of it: what to send next (Create, Update or Delete)."""

    page_id = models.PositiveIntegerField(unique=True)
    object_id = models.URLField(max_length=1000, unique=True)
    thread_key = models.CharField(max_length=255)
    revision = models.PositiveIntegerField(default=0)
    deleted = models.BooleanField(default=False)
    # Sent to followers. A translation is not: it is a language of the original's Article, and
    # is kept here so its own address takes replies.
    announced = models.BooleanField(default=True)
    published_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.object_id


class FederatedReply(models.Model):
    """A reply that came from the Fediverse (its Note's id) or was sent to it.

    An outgoing one (``outgoing``) is a member's reply they chose to federate; ``announced`` says
    whether the Fediverse holds it now (a ``Create`` went out and no ``Delete`` since)."""

    reply = models.OneToOneField(Reply, on_delete=models.CASCADE, related_name="federated")
    object_id = models.URLField(max_length=1000, unique=True)
    actor = models.ForeignKey(RemoteActor, null=True, blank=True, on_delete=models.SET_NULL, related_name="replies")
    outgoing = models.BooleanField(default=False)
    announced = models.BooleanField(default=False)
    remote_updated_at = models.DateTimeField(null=True, blank=True)
    # An outgoing Note's every inbox so far, so that its Update and Delete reach the servers that
    # hold it even when the Note would no longer go there (its mentioned writer's parent reply
    # deleted, a follower gone). Empty for rows from before it was kept.
    inboxes = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return self.object_id


class NoteTombstone(models.Model):
    """A remote Note its author deleted, so that its ``Create``, retried or overtaken by the
    ``Delete``, does not bring the reply back. Kept ``TOMBSTONE_RETENTION_DAYS``."""

    # A digest of the author's and the Note's ids, never the ids: they name the remote account.
    digest = models.CharField(max_length=64, unique=True)
    deleted_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return self.digest

    @staticmethod
    def digest_of(actor_url: str, note_id: str) -> str:
        return hashlib.sha256(f"{actor_url}\n{note_id}".encode()).hexdigest()

    @classmethod
    def record(cls, actor_url: str, note_id: str) -> None:
        cls.objects.bulk_create([cls(digest=cls.digest_of(actor_url, note_id))], ignore_conflicts=True)

    @classmethod
    def is_deleted(cls, actor_url: str, note_id: str) -> bool:
        return cls.objects.filter(digest=cls.digest_of(actor_url, note_id)).exists()


class ActivityLog(models.Model):
    """Every remote fetch, delivery and inbox decision, with its outcome. Addresses, types and
    outcomes only: never an activity's body (a refused direct message is not kept)."""

    class Kind(models.TextChoices):
        FETCH = "fetch", _("fetch")
        DELIVERY = "delivery", _("delivery")
        INBOX = "inbox", _("inbox received")

    class Outcome(models.TextChoices):
        OK = "ok", _("ok")
        STATUS = "status", _("error status")
        ERROR = "error", _("error")
        SIGNATURE = "signature", _("signature refused")
        BLOCKED = "blocked", _("blocked")
        REFUSED = "refused", _("refused")

    kind = models.CharField(_("direction"), max_length=10, choices=Kind.choices)
    url = models.CharField(_("address"), max_length=1000)
    host = models.CharField(_("host"), max_length=255, blank=True, db_index=True)
    activity_type = models.CharField(_("activity"), max_length=60, blank=True)
    ok = models.BooleanField()
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, default=Outcome.OK)
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    attempt = models.PositiveIntegerField(_("attempt"), null=True, blank=True)
    detail = models.CharField(_("detail"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("Fediverse log entry")
        verbose_name_plural = _("Fediverse log")

    def __str__(self) -> str:
        return f"{self.kind} {self.url}"


def log(
    kind: str,
    url: str,
    ok: bool,
    detail: str = "",
    *,
    outcome: str = "",
    status: int | None = None,
    activity_type: str = "",
    attempt: int | None = None,
    host: str = "",
) -> None:
    try:
        host = host or (urlsplit(url).hostname or "")
    except ValueError:
        host = ""
    ActivityLog.objects.create(
        kind=kind,
        url=url[:1000],
        host=host.lower()[:255],
        activity_type=activity_type[:60],
        ok=ok,
        outcome=outcome or (ActivityLog.Outcome.OK if ok else ActivityLog.Outcome.ERROR),
        status_code=status if status and 0 < status < 1000 else None,
        attempt=attempt,
        detail=detail[:500],
    )
