"""A page the importer places in the tree (speakout/interchange/tree.py) and writes in bulk
equals, field for field, one made by treebeard's ``add_child``."""

from __future__ import annotations

import pytest
from django.forms.models import model_to_dict
from wagtail.models import Page

from speakout.interchange.rows import IdAllocator, insert_objects
from speakout.interchange.tree import last_child_path, next_path, place_child
from speakout.publishing.models import StandardPage

pytestmark = pytest.mark.django_db

#: What differs between two pages by design: their id, their own slug and title, and what follows
#: from those (checked separately below).
OWN = {"id", "page_ptr", "path", "slug", "title", "draft_title", "url_path", "latest_revision", "translation_key"}


def bulk_child(parent: Page, title: str, slug: str) -> Page:
    """A child of ``parent`` made the importer's way: placed, then its rows inserted directly."""
    page = StandardPage(title=title, slug=slug)
    place_child(parent, page, after=last_child_path(parent))
    page.id = page.pk = IdAllocator().take(Page, 1, chunk=1)[0]
    insert_objects(Page, [page])
    insert_objects(StandardPage, [page])
    Page.objects.filter(pk=parent.pk).update(numchild=parent.numchild)
    return StandardPage.objects.get(pk=page.pk)


def test_a_bulk_made_page_equals_an_add_child_made_one_in_every_field(site_builder):
    parent = site_builder.home
    before = parent.numchild
    made = parent.add_child(instance=StandardPage(title="Made", slug="made"))
    parent.refresh_from_db()
    bulk = bulk_child(parent, "Bulk", "bulk")
    later = Page.objects.get(pk=parent.pk).add_child(instance=StandardPage(title="Later", slug="later"))

    made = StandardPage.objects.get(pk=made.pk)
    fields = {f.name for f in StandardPage._meta.concrete_fields} - OWN
    assert fields >= {"depth", "numchild", "locale", "live", "content_type", "has_unpublished_changes"}
    assert model_to_dict(bulk, fields=fields) == model_to_dict(made, fields=fields)

    assert bulk.path == next_path(made.path) and later.path == next_path(bulk.path)
    assert bulk.url_path == f"{parent.url_path}bulk/"
    assert bulk.draft_title == bulk.title
    assert Page.objects.get(pk=parent.pk).numchild == before + 3
    assert list(parent.get_children().values_list("slug", flat=True))[-3:] == ["made", "bulk", "later"]
    assert all(not problems for problems in Page.find_problems()), Page.find_problems()


def test_the_first_child_of_a_bulk_made_page_sits_under_it(site_builder):
    parent = bulk_child(site_builder.home, "Parent", "parent")
    child = bulk_child(parent, "Child", "child")
    added = Page.objects.get(pk=parent.pk).add_child(instance=StandardPage(title="Added", slug="added"))

    assert child.get_parent().pk == parent.pk and child.depth == parent.depth + 1
    assert added.path == next_path(child.path)
    assert Page.objects.get(pk=parent.pk).numchild == 2
    assert all(not problems for problems in Page.find_problems()), Page.find_problems()
