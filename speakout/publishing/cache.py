"""Which publishing changes bump the content version (see speakout.theme.cache)."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from taggit.models import Tag
from wagtail.images import get_image_model
from wagtail.models import Page, PageViewRestriction, Site
from wagtail.signals import page_published, page_slug_changed, page_unpublished, post_page_move

from speakout.theme.cache import bump_content_version, content_version

__all__ = ["content_version", "connect"]


def connect() -> None:
    from .models import Author, Category, ReportAuthor, ReportTag

    for signal in (page_published, page_unpublished, page_slug_changed, post_page_move):
        signal.connect(bump_content_version, dispatch_uid=f"speakout-content-{id(signal)}")
    # A deleted page leaves menus, listings and remembered routes (routing.py).
    post_delete.connect(bump_content_version, sender=Page, dispatch_uid="speakout-content-del-page")
    # A page that gains a view restriction must leave the anonymous page cache at once (a
    # standard page has no thread whose version would retire it).
    for signal in (post_save, post_delete):
        signal.connect(
            bump_content_version, sender=PageViewRestriction, dispatch_uid=f"speakout-content-restriction-{id(signal)}"
        )
    for model in (Author, Category, ReportAuthor, ReportTag, Tag, Site, get_image_model()):
        post_save.connect(bump_content_version, sender=model, dispatch_uid=f"speakout-content-save-{model.__name__}")
        post_delete.connect(bump_content_version, sender=model, dispatch_uid=f"speakout-content-del-{model.__name__}")
