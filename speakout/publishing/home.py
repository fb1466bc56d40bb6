"""The site's home page, and whether the site has any content yet.

Commands that run on every start (``speakout run``, ``speakout setup``) and the importers go
through here, so none of them replaces or deletes a page it did not create. A fresh install has
Wagtail's root and its "Welcome" placeholder page; that placeholder, while it has no child, is
the only page that counts as "nothing there". It is never deleted: when a home page of ours
takes its place as the site's root, the placeholder stays under the root, out of the site's
tree, where an editor may delete it from the admin.
"""

from __future__ import annotations

from django.db.models import Q
from wagtail.models import Page, Site

from .models import HomePage


def _placeholder_filter() -> Q:
    # Wagtail's initial page: a plain Page (no type of ours) directly under the root, childless.
    return Q(depth=2, numchild=0, content_type__app_label="wagtailcore", content_type__model="page")


def content_summary() -> dict[str, int]:
    """What the site holds beyond a fresh install: pages and replies."""
    from speakout.discussion.models import Reply

    return {
        "pages": Page.objects.filter(depth__gt=1).exclude(_placeholder_filter()).count(),
        "replies": Reply.objects.count(),
    }


def home_page(title: str) -> HomePage:
    """The default site's home page. When the site's root is still Wagtail's placeholder (or
    there is no default site yet), a HomePage titled ``title`` becomes the root; any other
    root that is not a HomePage is refused rather than replaced."""
    site = Site.objects.filter(is_default_site=True).select_related("root_page").first()
    if site is not None:
        root_page = site.root_page.specific
        if isinstance(root_page, HomePage):
            return root_page
        if not Page.objects.filter(pk=root_page.pk).filter(_placeholder_filter()).exists():
            raise HomePageRefused(root_page)
    home = HomePage.objects.first()
    if home is None:
        root = Page.get_first_root_node()
        home = root.add_child(instance=HomePage(title=title, slug=_free_slug(root, "home")))
    if site is None:
        site = Site(is_default_site=True, hostname="localhost", port=80)
    site.root_page = home
    site.save()
    Site.clear_site_root_paths_cache()
    return home


class HomePageRefused(Exception):
    """The default site's root is a page of someone else's making; it is left as it is."""

    def __init__(self, page: Page):
        self.page = page
        super().__init__(f"the default site's root page is “{page.title}” (a {type(page).__name__}), not a home page")


def _free_slug(parent: Page, wanted: str) -> str:
    taken = set(parent.get_children().values_list("slug", flat=True))
    slug, n = wanted, 1
    while slug in taken:
        n += 1
        slug = f"{wanted}-{n}"
    return slug
