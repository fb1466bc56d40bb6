"""Threads, replies, commenters, reports of replies, and the moderation log.

A thread is keyed by a stable string (a report's ``report-<id>``, or an external page's key), so
the discussion app needs nothing from Wagtail. Replies store their rendered HTML: rendering and
sanitising happen once, when a reply is written or edited, never when a page is read.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import models
from django.db.models import F
from django.db.models.functions import Substr, Upper
from django.db.models.lookups import Exact
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from speakout.net import sharedreads
from speakout.pagecache import versions

SAME_TEXT_PREFIX = 100  # characters of a reply's text in the duplicate check's index
PATH_SEGMENT_LENGTH = 9  # 8 base-36 digits and a slash: room for 2.8 trillion replies


def path_segment(reply_id: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    value, out = reply_id, ""
    while value:
        value, remainder = divmod(value, 36)
        out = digits[remainder] + out
    return out.rjust(PATH_SEGMENT_LENGTH - 1, "0") + "/"


def thread_dependency(key: str) -> str:
    """The name of a thread's version in the page cache (speakout.pagecache.versions)."""
    return "thread:" + hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()[:20]


SETTINGS_DEPENDENCY = "discussion-settings"


class ThreadQuerySet(models.QuerySet):
    def update(self, **kwargs):
        """Every change of a thread's version also retires the cached pages and JSON showing it,
        whichever code makes it (services, moderation, importers)."""
        if "version" not in kwargs:
            return super().update(**kwargs)
        return self.update_versions(list(self.values_list("key", flat=True)), **kwargs)

    def update_versions(self, keys: list[str], **kwargs) -> int:
        """``update`` for a caller that already holds the threads it changes: ``keys`` are their
        keys, every one of them, so the versions are bumped without reading the keys again."""
        # Bumped before the update (and again at the commit): no round trip to the cache while
        # the rows are locked.
        versions.bump(*(thread_dependency(key) for key in keys))
        return super().update(**kwargs)


class Thread(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open: readers may reply")
        CLOSED = "closed", _("Closed: replies shown, no new ones")
        HIDDEN = "hidden", _("Hidden: no replies shown")

    key = models.CharField(_("key"), max_length=255, unique=True)
    url = models.URLField(_("address"), max_length=1000, blank=True)
    title = models.CharField(_("title"), max_length=500, blank=True)
    status = models.CharField(_("replies"), max_length=10, choices=Status.choices, default=Status.OPEN)
    # False for threads of unpublished or private pages: none of their replies may appear in any
    # public channel (page, feed, API). The publishing side keeps it in step with the page.
    is_public = models.BooleanField(_("public"), default=True)
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    # Bumped on every change readers can see; page caches carry it in their key.
    version = models.PositiveBigIntegerField(default=1)
    approved_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ThreadQuerySet.as_manager()

    class Meta:
        verbose_name = _("thread")
        verbose_name_plural = _("threads")

    def __str__(self) -> str:
        return self.title or self.key

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        versions.bump(thread_dependency(self.key))

    def bump_version(self) -> None:
        Thread.objects.filter(pk=self.pk).update_versions([self.key], version=F("version") + 1)

    def closes_at(self, auto_close_days: int):
        if not auto_close_days:
            return None
        return self.opened_at + timedelta(days=auto_close_days)

    def accepts_replies(self, auto_close_days: int = 0, now=None) -> bool:
        if self.status != Thread.Status.OPEN or not self.is_public:
            return False
        closes_at = self.closes_at(auto_close_days)
        return closes_at is None or (now or timezone.now()) < closes_at

    def refresh_approved_count(self) -> None:
        count = self.replies.filter(status=Reply.Status.APPROVED).count()
        Thread.objects.filter(pk=self.pk).update(approved_count=count, version=F("version") + 1)


HANDLE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i: read aloud or copied by hand


def new_handle() -> str:
    """A random, meaningless label such as ``k7qm-2xd9`` (40 bits), fixed for a commenter's life."""
    letters = "".join(secrets.choice(HANDLE_ALPHABET) for _ in range(8))
    return f"{letters[:4]}-{letters[4:]}"


class Commenter(models.Model):
    """The moderation identity behind replies: private, never shown to the public.

    Moderators know a commenter by ``handle``, an opaque label that says nothing about the
    person; the email address needs the ``view_commenter_email`` permission (docs/safety.md).

    ``address_proof`` says how its address was proven. Only a proven address links the record
    to the account that verifies it and keeps other proven records from holding it; one a guest
    typed is a claim (DESIGN.md "trust follows proof")."""

    class AddressProof(models.TextChoices):
        TYPED = "", _("typed by a guest (a claim)")
        IMPORTED = "import", _("the organisation's own data (an import)")
        MAIL = "mail", _("confirmed by a mailed link")
        ACCOUNT = "account", _("verified by a site account")

    handle = models.CharField(_("handle"), max_length=9, default=new_handle, editable=False)
    # No plain index: exact look-ups go through the partial unique ones below, and
    # case-insensitive ones through the upper-cased address's.
    email = models.EmailField(_("email"), max_length=254, blank=True)
    address_proof = models.CharField(
        _("address proven by"), max_length=10, choices=AddressProof.choices, blank=True, default=AddressProof.TYPED
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="commenters",
        db_index=False,  # a partial index below: a guest's record has none
    )
    # As long as WordPress stores a commenter's name, so an imported one is kept whole; the
    # reply form asks for at most forms.NAME_MAX_LENGTH.
    display_name = models.CharField(_("name"), max_length=255, blank=True)
    website = models.URLField(_("website"), max_length=500, blank=True)
    approved_count = models.PositiveIntegerField(_("approved replies"), default=0)
    is_banned = models.BooleanField(_("banned"), default=False)
    banned_reason = models.CharField(_("ban reason"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when the person asked to be forgotten: their replies are already detached, and the
    # retention purge deletes this row (and so the address) once the grace period has passed.
    forget_requested_at = models.DateTimeField(_("asked to be forgotten at"), null=True, blank=True)

    class Meta:
        verbose_name = _("commenter")
        verbose_name_plural = _("commenters")
        permissions = [("view_commenter_email", _("Can see commenters' email addresses"))]
        constraints = [
            # Not unique=True, which on PostgreSQL adds a LIKE index that no query reads.
            models.UniqueConstraint(fields=["handle"], name="speakout_commenter_handle_once"),
            # One proven holder and one claim per address: a claim never keeps its proven owner
            # from it, and a later claim is kept apart without it (``_store_commenter``).
            models.UniqueConstraint(
                fields=["email"],
                condition=~models.Q(email="") & ~models.Q(address_proof=""),
                name="speakout_commenter_unique_proven_email",
            ),
            models.UniqueConstraint(
                fields=["email"],
                condition=~models.Q(email="") & models.Q(address_proof=""),
                name="speakout_commenter_unique_typed_email",
            ),
        ]
        # A first-time writer's address is looked up in any spelling of its case on every post
        # (``holding``): without this index, a scan of every commenter.
        indexes = [
            models.Index(Upper("email"), name="speakout_commenter_email_upper"),
            # Only the records an account holds: every query names one account.
            models.Index(fields=["user"], condition=models.Q(user__isnull=False), name="speakout_commenter_user"),
        ]

    def __str__(self) -> str:
        # Never the email: this appears on moderators' screens whatever their permissions.
        return self.display_name or self.handle


def holding(email: str) -> models.Q:
    """Commenters whose address is ``email`` in any spelling of its case, through the index on
    the upper-cased address (the ``iexact`` lookup is the same comparison on PostgreSQL, but a
    ``LIKE`` on SQLite, which that index cannot serve)."""
    return models.Q(Exact(Upper("email"), Upper(models.Value(email))))


class ClientKey(models.Model):
    """A secret that client hashes are keyed with, one per rotation period.

    Old keys are kept for the retention window, so bans and rate limits recorded under them still
    match a returning client; then they are deleted, after which nothing can link their hashes to
    an address again, not even with the site's secret key."""

    period = models.PositiveIntegerField(unique=True)
    secret = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("client hash key")

    def __str__(self) -> str:
        return f"#{self.period}"


class BannedClient(models.Model):
    """A banned client hash (a keyed hash of a truncated IP address, never the address)."""

    client_hash = models.CharField(max_length=64, unique=True)
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("banned client")

    def __str__(self) -> str:
        return self.client_hash[:12]


class Reply(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        SPAM = "spam", _("Spam")
        TRASH = "trash", _("Trash")

    class Kind(models.TextChoices):
        REPLY = "reply", _("Reply")
        PINGBACK = "pingback", _("Pingback")
        TRACKBACK = "trackback", _("Trackback")

    # No index of its own: the composite indexes below start with the thread.
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="replies", db_index=False)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children", db_index=False
    )
    # Materialised tree path: the ancestors' segments then our own. Ordering by it gives the
    # thread in reading order with one query; it is written once, right after the insert.
    path = models.CharField(max_length=2000, blank=True)
    depth = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.REPLY)
    commenter = models.ForeignKey(Commenter, null=True, on_delete=models.SET_NULL, related_name="replies")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    author_name = models.CharField(_("name"), max_length=255)  # as Commenter.display_name
    author_website = models.URLField(_("website"), max_length=500, blank=True)
    body = models.TextField(_("text"))
    body_html = models.TextField(editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    moderation_reason = models.CharField(_("why"), max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # When the reply reached this site. An imported reply keeps its old ``created_at``, but
    # retention periods (the purge of replies nobody moderated) count from its arrival here.
    received_at = models.DateTimeField(_("received at"), default=timezone.now, editable=False)
    edited_at = models.DateTimeField(null=True, blank=True)
    client_hash = models.CharField(max_length=64, blank=True)
    # The public avatar: a keyed hash of the author's account, commenter record or guest token,
    # random for a writer who proved nothing (see avatars.py).
    avatar_key = models.CharField(max_length=16, blank=True)
    # Hash of the guest's private token: lets a guest see their held reply and edit or
    # delete within the window, without an account.
    guest_key = models.CharField(max_length=64, blank=True)
    submission_id = models.CharField(max_length=64, null=True, blank=True)
    external_id = models.CharField(max_length=100, blank=True)
    # The writer's pile-on brake: replies to this one from commenters without an approved reply
    # wait for review (enforced by a policy check, speakout.safety.pileon).
    approved_repliers_only = models.BooleanField(_("only approved commenters may reply"), default=False)
    # The language the writer read the site in: mail to them about this reply goes out in it.
    language = models.CharField(_("language"), max_length=35, blank=True)

    class Meta:
        verbose_name = _("reply")
        verbose_name_plural = _("replies")
        # Every reply insert writes every index of the table, so each one here serves a query
        # (docs/architecture.md, "Indexes"). None on path, client_hash or external_id alone:
        # they are only ever looked up within a thread or after another index. Plain btree
        # indexes rather than db_index/unique on text columns: on PostgreSQL those add a second,
        # varchar_pattern_ops index for LIKE look-ups that no query makes.
        constraints = [
            # Only the replies that carry one: an import, an Isso client or another API client
            # sends none, and such a reply takes no entry.
            models.UniqueConstraint(
                fields=["submission_id"],
                condition=models.Q(submission_id__isnull=False),
                name="speakout_reply_submission_once",
            )
        ]
        indexes = [
            # The moderation queues (held, spam, trash) and their counts.
            models.Index(fields=["status"], name="speakout_reply_status"),
            # A returning guest's earlier record (services._guest_commenter), in every thread.
            models.Index(fields=["guest_key"], name="speakout_reply_guest_key"),
            # Answers to a reply, and to an account's replies, with nothing for the replies that
            # answer nobody or have no account (most of them): every query names one.
            models.Index(fields=["parent"], condition=models.Q(parent__isnull=False), name="speakout_reply_parent"),
            models.Index(fields=["user"], condition=models.Q(user__isnull=False), name="speakout_reply_user"),
            # A thread's replies in reading order.
            models.Index(fields=["thread", "status", "path"]),
            # A large thread's pages: its top-level replies counted and ranged without reading
            # the rest of the thread.
            models.Index(fields=["thread", "status", "depth", "path"], name="speakout_reply_top_level"),
            # The duplicate check's look-up (policy.DuplicateCheck): the same text in a thread,
            # found without reading every reply of the thread (a body is too long to index whole).
            models.Index(F("thread"), Substr("body", 1, SAME_TEXT_PREFIX), name="speakout_reply_same_text"),
        ]

    def __str__(self) -> str:
        return f"{self.author_name}: {self.body[:60]}"

    def save(self, *args, **kwargs):
        if self._state.adding and not self.avatar_key:
            # Replies made outside submit_reply (importers, the shell) get their author's avatar too.
            from .avatars import avatar_for

            self.avatar_key = avatar_for(user_id=self.user_id, commenter_id=self.commenter_id, guest_key=self.guest_key)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return f"{self.thread.url}#reply-{self.pk}" if self.thread.url else f"#reply-{self.pk}"

    @property
    def anchor(self) -> str:
        return f"reply-{self.pk}"


class RemovedReply(models.Model):
    """The import id of a reply deleted here (by its author, a moderator or the retention purge),
    so that importing the same file again does not bring it back. Holds no text, name or address."""

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="+")
    external_id = models.CharField(max_length=100)
    removed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("deleted imported reply")
        verbose_name_plural = _("deleted imported replies")
        constraints = [
            models.UniqueConstraint(fields=["thread", "external_id"], name="speakout_removed_reply_once"),
        ]

    def __str__(self) -> str:
        return self.external_id


class Flag(models.Model):
    """A reader's report of a reply ("Report" link), with its reason."""

    class Reason(models.TextChoices):
        SPAM = "spam", _("Spam")
        HARASSMENT = "harassment", _("Harassment or abuse")
        PERSONAL_INFORMATION = "personal", _("Personal information about someone")
        OTHER = "other", _("Something else")

    reply = models.ForeignKey(Reply, on_delete=models.CASCADE, related_name="flags")
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    note = models.TextField(_("details"), blank=True, max_length=2000)
    client_hash = models.CharField(max_length=64, blank=True)
    #: The reply's text (its Markdown source) when it was reported, so that an edit by its author
    #: cannot hide what was reported. Blank for reports made before it was kept. Deleting the
    #: reply deletes its reports; anonymising blanks it (words edited away, a signature say).
    reported_body = models.TextField(_("reported text"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("report of a reply")
        verbose_name_plural = _("reports of replies")

    def __str__(self) -> str:
        return f"{self.get_reason_display()} (#{self.reply_id})"

    @property
    def edited_since(self) -> bool:
        """The reply's text is no longer the one reported: its author (or a Fediverse update)
        changed it. Reads ``self.reply`` (set by a prefetch through ``reply.flags``)."""
        return bool(self.reported_body) and self.reported_body != self.reply.body


class ModerationLogEntry(models.Model):
    """Who decided what about which reply or commenter, when, and why."""

    reply = models.ForeignKey(Reply, null=True, blank=True, on_delete=models.SET_NULL, related_name="log_entries")
    commenter = models.ForeignKey(
        Commenter, null=True, blank=True, on_delete=models.SET_NULL, related_name="log_entries"
    )
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    action = models.CharField(max_length=40)
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("moderation log entry")
        verbose_name_plural = _("moderation log")

    def __str__(self) -> str:
        return f"{self.action} {self.created_at:%Y-%m-%d %H:%M}"


class DiscussionSettings(models.Model):
    """The everyday discussion rules, editable by non-technical editors in the admin."""

    require_name_email = models.BooleanField(_("require a name and an email address"), default=True)
    hold_first_reply = models.BooleanField(_("hold a commenter's replies until one has been approved"), default=True)
    hold_link_count = models.PositiveSmallIntegerField(
        _("hold a reply with this many links or more"), default=2, help_text=_("0 turns this off.")
    )
    hold_words = models.TextField(
        _("hold words"), blank=True, help_text=_("One word or phrase per line. Replies containing one wait for review.")
    )
    block_words = models.TextField(
        _("block words"), blank=True, help_text=_("One word or phrase per line. Replies containing one go to spam.")
    )
    auto_close_days = models.PositiveIntegerField(
        _("close replies this many days after a report is published"), default=0, help_text=_("0: never.")
    )
    max_depth = models.PositiveSmallIntegerField(_("nesting depth shown"), default=5)
    edit_window_minutes = models.PositiveSmallIntegerField(
        _("minutes a commenter may edit or delete their reply"), default=15
    )
    replies_per_page = models.PositiveSmallIntegerField(_("top-level replies per page"), default=50)
    newest_first = models.BooleanField(_("show newest replies first"), default=False)

    class ModeratorAlerts(models.TextChoices):
        EACH = "each", _("A mail for each held or reported reply")
        DAILY = "daily", _("One daily summary")
        OFF = "off", _("No mail")

    moderator_alerts = models.CharField(
        _("mail moderators about held and reported replies"),
        max_length=10,
        choices=ModeratorAlerts.choices,
        default=ModeratorAlerts.EACH,
        help_text=_("Sent to everyone who may moderate replies and has an email address."),
    )

    class Meta:
        verbose_name = _("discussion settings")
        verbose_name_plural = _("discussion settings")

    def __str__(self) -> str:
        return str(_("Discussion settings"))

    CACHE_KEY = "speakout:discussion:settings"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        # Every page showing a discussion renders differently, and every process's kept row is
        # retired: load() keys it by this version, which lives where all processes read it.
        versions.bump(SETTINGS_DEPENDENCY)

    @classmethod
    def shared_keys(cls) -> list[str]:
        """What ``load`` reads from the shared cache, for ``sharedreads.read_together``."""
        if versions.file_versions() is not None:
            return [cls.CACHE_KEY]
        return [versions.key(SETTINGS_DEPENDENCY), cls.CACHE_KEY]

    @classmethod
    def load(cls) -> DiscussionSettings:
        """The settings row, from the cache when possible (it is read on every page and reply),
        kept with the settings' version and used only while that version stands: a save made by
        any process (a command, the worker, another web process) is read on the next request,
        with or without Redis. With Redis, the version and the row come in one round trip."""
        found = sharedreads.get_many(cls.shared_keys())
        version = found.get(versions.key(SETTINGS_DEPENDENCY))
        if version is None:
            version = versions.current([SETTINGS_DEPENDENCY])[SETTINGS_DEPENDENCY]
        kept = found.get(cls.CACHE_KEY)
        if isinstance(kept, tuple) and len(kept) == 2 and kept[0] == version:
            return kept[1]
        instance = cls.objects.filter(pk=1).first()
        if instance is None:
            instance, _created = cls.objects.get_or_create(pk=1)
        cache.set(cls.CACHE_KEY, (version, instance), 300)
        return instance

    @staticmethod
    def _lines(text: str) -> list[str]:
        return [line.strip().casefold() for line in text.splitlines() if line.strip()]

    @property
    def hold_word_list(self) -> list[str]:
        return self._lines(self.hold_words)

    @property
    def block_word_list(self) -> list[str]:
        return self._lines(self.block_words)
