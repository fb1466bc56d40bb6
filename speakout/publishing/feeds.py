"""RSS 2.0 and Atom feeds of published reports: all of them, per category and per tag.

Only live reports without a view restriction appear (``ReportPage.published``): a draft or a
private report must never leak through a feed.
"""

from __future__ import annotations

from django.contrib.syndication.views import Feed
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.translation import gettext as _
from taggit.models import Tag

from .models import Category, ReportPage

FEED_LENGTH = 30


class ReportsFeed(Feed):
    def __init__(self, index_page, flavour: str = "rss", category: Category | None = None, tag: Tag | None = None):
        super().__init__()
        self.index_page = index_page
        self.feed_type = Atom1Feed if flavour == "atom" else Rss201rev2Feed
        self.flavour = flavour
        self.category = category
        self.tag = tag

    @property
    def language(self):
        # Each language's reports index has its own feeds, in that language.
        return self.index_page.locale.language_code

    def title(self):
        site_name = self.index_page.get_site().site_name or self.index_page.title
        if self.category is not None:
            return _("%(site)s: reports in %(name)s") % {"site": site_name, "name": self.category.name}
        if self.tag is not None:
            return _("%(site)s: reports tagged %(name)s") % {"site": site_name, "name": self.tag.name}
        return _("%(site)s: reports") % {"site": site_name}

    def link(self):
        return self.index_page.full_url

    def feed_url(self):
        urls = self.index_page.feed_urls(category=self.category, tag=self.tag)
        return self.index_page.get_site().root_url + urls[self.flavour]

    def description(self):
        return self.index_page.search_description or self.title()

    def items(self):
        return self.index_page.filtered_reports(self.category, self.tag)[:FEED_LENGTH]

    def item_title(self, item: ReportPage):
        return item.title

    def item_description(self, item: ReportPage):
        return item.standfirst or item.search_description or ""

    def item_link(self, item: ReportPage):
        return item.full_url

    def item_guid(self, item: ReportPage):
        return item.full_url

    def item_pubdate(self, item: ReportPage):
        return item.date

    def item_updateddate(self, item: ReportPage):
        return item.last_published_at or item.date

    def item_author_name(self, item: ReportPage):
        return ", ".join(author.name for author in item.authors) or None

    def item_categories(self, item: ReportPage):
        return [category.name for category in item.categories.all()] + [tag.name for tag in item.tags.all()]
