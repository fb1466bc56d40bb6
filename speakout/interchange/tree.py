"""Treebeard's tree arithmetic for pages the importer writes in bulk: the one module that uses
treebeard's private API (``steplen``, ``alphabet``, ``_str2int``, ``_int2str``, ``_get_path``).

A page made here must equal one made by ``parent.add_child(instance=page)`` in every field
(tests/interchange/test_tree.py compares them), without add_child's per-page lookups.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from wagtail.models import Page

from .errors import ImportFailed


def next_path(path: str) -> str:
    """The tree path of the sibling after ``path`` (treebeard's ``_inc_path``)."""
    step = Page.steplen
    number = Page._str2int(path[-step:]) + 1
    key = Page._int2str(number)
    if len(key) > step:
        raise ImportFailed(_("Too many pages under one parent page."))
    return path[:-step] + Page.alphabet[0] * (step - len(key)) + key


def last_child_path(parent: Page) -> str | None:
    """The path of ``parent``'s last child in the database, locking the parent as add_child
    does, so an editor adding a page under it waits for the import's transaction."""
    list(Page.objects.select_for_update().filter(pk=parent.pk).values_list("pk", flat=True))
    return (
        Page.objects.filter(depth=parent.depth + 1, path__startswith=parent.path)
        .order_by("-path")
        .values_list("path", flat=True)
        .first()
    )


def place_child(parent: Page, page: Page, after: str | None) -> None:
    """Give the unsaved ``page`` the place, depth and inherited fields add_child would, as the
    child after the one at ``after`` (None: the first child). The parent's ``numchild`` grows
    in memory; the caller writes it."""
    page.depth = parent.depth + 1
    page.path = Page._get_path(parent.path, page.depth, 1) if after is None else next_path(after)
    page.numchild = 0
    page.locale_id = parent.locale_id
    page.draft_title = page.title
    page.set_url_path(parent)
    page._cached_parent_obj = parent
    parent.numchild += 1
