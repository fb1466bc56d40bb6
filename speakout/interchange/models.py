"""What the importers remember: which source item became which object, and each import run.

``ImportedItem`` makes imports idempotent (the same source id maps to the same object, so a
second run updates instead of duplicating) and keeps what our own models have no field for
(a category's parent, a sticky flag, a WordPress post id), which the WXR exporter writes back.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .storage import private_uploads, random_upload_name


class ImportedItem(models.Model):
    class Kind(models.TextChoices):
        AUTHOR = "author", _("Author")
        CATEGORY = "category", _("Category")
        TAG = "tag", _("Tag")
        REPORT = "report", _("Report")
        PAGE = "page", _("Page")
        ATTACHMENT = "attachment", _("Attachment")
        THREAD = "thread", _("Thread")

    # The source a file came from ("wordpress:https://example.org", "disqus:forum", "isso").
    source = models.CharField(max_length=300)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    source_id = models.CharField(max_length=300)
    object_id = models.CharField(max_length=64, blank=True)
    # A hash of the source item's content: an unchanged item is skipped on the next import.
    checksum = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)
    imported_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("imported item")
        verbose_name_plural = _("imported items")
        constraints = [
            models.UniqueConstraint(fields=["source", "kind", "source_id"], name="speakout_imported_item_unique")
        ]
        indexes = [models.Index(fields=["kind", "object_id"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.source_id} ({self.source})"


class ImportRun(models.Model):
    """One import started from the admin: the uploaded file, its progress and its result."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    # Private: a random name outside the served folders, deleted when the run ends.
    file = models.FileField(_("file"), upload_to=random_upload_name, storage=private_uploads, blank=True)
    media_file = models.FileField(
        _("media export"), upload_to=random_upload_name, storage=private_uploads, blank=True, default=""
    )
    original_name = models.CharField(_("file name"), max_length=300, blank=True)
    format = models.CharField(_("format"), max_length=20, blank=True)
    dry_run = models.BooleanField(_("dry run"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    summary = models.JSONField(default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the worker took the run: a run "running" long after it is one whose worker stopped.
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return self.original_name or f"#{self.pk}"


class ExportCheck(models.Model):
    """A check of what a WXR export would hold, made by the worker when a superuser asks for one
    on the Export screen: building the export takes seconds on a large site, too long for a page
    view. It keeps only counts and what WordPress would refuse, never the file."""

    Status = ImportRun.Status

    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    # The language of the superuser who asked: the warnings are worded in it.
    language = models.CharField(max_length=35, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    replies_by_status = models.JSONField(default=dict, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("export check")
        verbose_name_plural = _("export checks")

    def __str__(self) -> str:
        return f"#{self.pk} ({self.status})"
