"""The sitemap: Wagtail's, with every language's pages (Wagtail's lists only the site root's tree,
which is the default language's)."""

from __future__ import annotations

from django.db.models import Q
from wagtail.contrib.sitemaps import Sitemap
from wagtail.models import Page


class PagesSitemap(Sitemap):
    def items(self):
        root = self.get_wagtail_site().root_page
        trees = Q()
        for home in root.get_translations(inclusive=True):
            trees |= Page.objects.descendant_of_q(home, inclusive=True)
        return Page.objects.filter(trees).live().public().order_by("path").defer_streamfields().specific()
