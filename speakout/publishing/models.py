"""Wagtail pages and snippets of the publishing side: home, reports, standard pages."""

from __future__ import annotations

import math

from django.conf import settings
from django.core.cache.utils import make_template_fragment_key
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db import models
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.functional import SimpleLazyObject, cached_property
from django.utils.html import strip_tags
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from taggit.models import Tag, TaggedItemBase
from wagtail import blocks
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path, re_path
from wagtail.fields import RichTextField, StreamField
from wagtail.images import get_image_model_string
from wagtail.models import Orderable, Page, PageViewRestriction
from wagtail.search import index
from wagtail.snippets.models import register_snippet

from speakout.net import sharedreads

from .blocks import RICH_TEXT_FEATURES, NoteBlock, ReportBodyBlock
from .cache import content_version


class SeoMixin(models.Model):
    """Fields for sharing cards (OpenGraph and Twitter) on top of Wagtail's promote tab, and
    view restrictions that are not asked for again when this request already knows the answer."""

    social_image = models.ForeignKey(
        get_image_model_string(),
        verbose_name=_("sharing image"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    social_image_alt = models.CharField(_("sharing image alt text"), max_length=300, blank=True)

    promote_panels = Page.promote_panels + [
        MultiFieldPanel([FieldPanel("social_image"), FieldPanel("social_image_alt")], heading=_("Sharing"))
    ]

    class Meta:
        abstract = True

    def get_meta_description(self) -> str:
        return self.search_description

    def get_social_image(self):
        return self.social_image

    def get_view_restrictions(self):
        # A remembered route (routing.py) knows under the content version, which every change to
        # a restriction bumps, that this page has none: Wagtail's check then costs no queries.
        from .routing import known_unrestricted

        if known_unrestricted(self):
            return PageViewRestriction.objects.none()
        return super().get_view_restrictions()


@register_snippet
class Author(index.Indexed, models.Model):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=200, unique=True)
    bio = models.TextField(_("short biography"), blank=True)

    panels = [FieldPanel("name"), FieldPanel("slug"), FieldPanel("bio")]
    search_fields = [index.SearchField("name"), index.AutocompleteField("name")]

    class Meta:
        ordering = ["name"]
        verbose_name = _("author")
        verbose_name_plural = _("authors")

    def __str__(self) -> str:
        return self.name


@register_snippet
class Category(index.Indexed, models.Model):
    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)

    panels = [FieldPanel("name"), FieldPanel("slug"), FieldPanel("description")]
    search_fields = [index.SearchField("name"), index.AutocompleteField("name")]

    class Meta:
        ordering = ["name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.name


class ReportTag(TaggedItemBase):
    content_object = ParentalKey("ReportPage", on_delete=models.CASCADE, related_name="tagged_items")


class HomePage(SeoMixin, Page):
    """The front page: the organisation's name and mission, then the latest reports."""

    mission = RichTextField(_("mission"), features=RICH_TEXT_FEATURES, blank=True)
    latest_count = models.PositiveSmallIntegerField(_("how many latest reports"), default=5)

    content_panels = Page.content_panels + [FieldPanel("mission"), FieldPanel("latest_count")]
    search_fields = Page.search_fields + [index.SearchField("mission")]
    parent_page_types = ["wagtailcore.Page"]
    max_count = 1

    template = "publishing/home_page.html"

    class Meta:
        verbose_name = _("home page")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        # This language's reports only: each language's home page lists its own.
        context["latest_reports"] = (
            ReportPage.published()
            .filter(locale_id=self.locale_id)
            .order_by("-date", "-pk")
            .select_related("social_image")
            .prefetch_related("categories", "report_authors__author", "social_image__renditions")[: self.latest_count]
        )
        context["reports_index"] = ReportIndexPage.objects.live().public().filter(locale_id=self.locale_id).first()
        return context


READING_WORDS_PER_MINUTE = 230


def _texts(value):
    """Every string in a StreamField's stored data (block values, captions, quotes...)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in ("type", "id"):
                yield from _texts(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _texts(item)


class ReportIndexPage(RoutablePageMixin, SeoMixin, Page):
    """All reports, newest first, filterable by category and tag, with feeds for each view."""

    intro = RichTextField(_("introduction"), features=RICH_TEXT_FEATURES, blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    search_fields = Page.search_fields + [index.SearchField("intro")]
    subpage_types = ["speakout_publishing.ReportPage"]

    template = "publishing/report_index_page.html"

    class Meta:
        verbose_name = _("reports index")

    def reports(self):
        return (
            ReportPage.published()
            .descendant_of(self)
            .order_by("-date", "-pk")
            .select_related("social_image")
            .prefetch_related("categories", "report_authors__author", "tagged_items__tag", "social_image__renditions")
        )

    def filtered_reports(self, category: Category | None = None, tag: Tag | None = None):
        reports = self.reports()
        if category is not None:
            reports = reports.filter(categories=category)
        if tag is not None:
            reports = reports.filter(tags=tag)
        return reports

    def _listing(self, request, category=None, tag=None):
        paginator = Paginator(self.filtered_reports(category, tag), settings.SPEAKOUT_REPORTS_PER_PAGE)
        try:
            page_of_reports = paginator.page(request.GET.get("page") or 1)
        except (EmptyPage, PageNotAnInteger) as error:
            raise Http404(_("There is no such page of reports.")) from error
        context = {"reports": page_of_reports, "category": category, "tag": tag, "categories": Category.objects.all()}
        return self.render(request, context_overrides=context)

    @path("")
    def all_reports(self, request):
        return self._listing(request)

    @path("category/<slug:slug>/")
    def by_category(self, request, slug):
        return self._listing(request, category=get_object_or_404(Category, slug=slug))

    @path("tag/<slug:slug>/")
    def by_tag(self, request, slug):
        return self._listing(request, tag=get_object_or_404(Tag, slug=slug))

    @re_path(r"^feed/(?P<flavour>rss|atom)/$", name="feed")
    def feed(self, request, flavour):
        return self._feed(request, flavour)

    @re_path(r"^category/(?P<slug>[-\w]+)/feed/(?P<flavour>rss|atom)/$", name="category_feed")
    def category_feed(self, request, slug, flavour):
        return self._feed(request, flavour, category=get_object_or_404(Category, slug=slug))

    @re_path(r"^tag/(?P<slug>[-\w]+)/feed/(?P<flavour>rss|atom)/$", name="tag_feed")
    def tag_feed(self, request, slug, flavour):
        return self._feed(request, flavour, tag=get_object_or_404(Tag, slug=slug))

    def _feed(self, request, flavour, category=None, tag=None):
        from .feeds import ReportsFeed

        return ReportsFeed(index_page=self, flavour=flavour, category=category, tag=tag)(request)

    def feed_urls(self, category=None, tag=None) -> dict[str, str]:
        if category is not None:
            name, args = "category_feed", {"slug": category.slug}
        elif tag is not None:
            name, args = "tag_feed", {"slug": tag.slug}
        else:
            name, args = "feed", {}
        return {
            flavour: self.url + self.reverse_subpage(name, kwargs={**args, "flavour": flavour})
            for flavour in ("rss", "atom")
        }

    def render(self, request, *args, template=None, context_overrides=None, **kwargs):
        context_overrides = context_overrides or {}
        context_overrides.setdefault(
            "feed_urls", self.feed_urls(context_overrides.get("category"), context_overrides.get("tag"))
        )
        return super().render(request, *args, template=template, context_overrides=context_overrides, **kwargs)


class ReportAuthor(Orderable):
    """One name in a report's byline; the order is the editor's."""

    report = ParentalKey("ReportPage", on_delete=models.CASCADE, related_name="report_authors")
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="+", verbose_name=_("author"))

    panels = [FieldPanel("author")]


class ReportPage(SeoMixin, Page):
    """A report: the article readers come for, with its discussion underneath."""

    date = models.DateTimeField(_("date"), default=timezone.now, db_index=True)
    standfirst = models.TextField(_("standfirst"), blank=True, help_text=_("One or two sentences under the title."))
    body = StreamField(ReportBodyBlock(), verbose_name=_("body"))
    notes = StreamField(
        blocks.StreamBlock([("note", NoteBlock())], required=False),
        verbose_name=_("notes"),
        blank=True,
        help_text=_("Numbered notes after the body. Link to one from the text with #note-1, #note-2…"),
    )
    categories = ParentalManyToManyField(Category, blank=True, related_name="reports", verbose_name=_("categories"))
    replies = models.CharField(
        _("replies"),
        max_length=10,
        choices=[("open", _("Open")), ("closed", _("Closed (replies stay visible)")), ("hidden", _("Hidden"))],
        default="open",
    )
    tags = ClusterTaggableManager(through=ReportTag, blank=True, verbose_name=_("tags"))
    content_warning = models.CharField(
        _("content warning"),
        max_length=200,
        blank=True,
        help_text=_(
            "Leave empty unless the report needs one. On the Fediverse the report is then marked "
            "sensitive and this text is shown before it, in place of the standfirst."
        ),
    )

    content_panels = Page.content_panels + [
        FieldPanel("standfirst"),
        FieldPanel("date"),
        InlinePanel("report_authors", label=_("Authors"), heading=_("Byline")),
        FieldPanel("body"),
        FieldPanel("notes"),
        MultiFieldPanel([FieldPanel("categories"), FieldPanel("tags")], heading=_("Filing")),
    ]
    settings_panels = Page.settings_panels + [FieldPanel("replies"), FieldPanel("content_warning")]
    search_fields = Page.search_fields + [
        index.SearchField("standfirst"),
        index.SearchField("body"),
        index.FilterField("date"),
    ]
    parent_page_types = ["speakout_publishing.ReportIndexPage"]
    subpage_types: list[str] = []

    template = "publishing/report_page.html"

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")

    @classmethod
    def published(cls):
        """Reports anyone may read: live and without a view restriction."""
        return cls.objects.live().public()

    @cached_property
    def authors(self) -> list[Author]:
        return [link.author for link in self.report_authors.all()]

    def get_meta_description(self) -> str:
        return self.search_description or self.standfirst

    def get_social_image(self):
        return self.lead_image[0] if self.lead_image else None

    def mail_parts(self) -> dict[str, str]:
        """The whole report for subscribers' mail (see ``speakout.publishing.mailing``)."""
        from .mailing import mail_parts

        return mail_parts(self)

    @cached_property
    def lead_image(self) -> tuple | None:
        """(image, alt text) for lists: the sharing image, else the body's first picture."""
        if self.social_image:
            return self.social_image, self.social_image_alt
        for block in self.body:
            if block.block_type == "image":
                return block.value["image"], block.value.get("alt_text", "")
        return None

    @cached_property
    def reading_minutes(self) -> int:
        """Minutes to read the body at 230 words a minute, at least one."""
        # The stored text, not the rendered blocks: rendering would fetch every picture's rendition.
        words = sum(len(strip_tags(text).split()) for text in _texts(list(self.body.raw_data)))
        return max(1, math.ceil((words + len(self.standfirst.split())) / READING_WORDS_PER_MINUTE))

    def _reports_index(self) -> ReportIndexPage | None:
        # Wagtail's routing leaves the parent on the page; a remembered route (routing.py) does
        # not, and one query for the specific parent beats get_parent().specific's two.
        parent = getattr(self, "_cached_parent_obj", None)
        if parent is None:
            parent = ReportIndexPage.objects.ancestor_of(self).filter(depth=self.depth - 1).first()
        return parent.specific if parent is not None else None

    @property
    def thread_key(self) -> str:
        return f"report-{self.pk}"

    def get_context(self, request, *args, **kwargs):
        from .discussion import thread_for_report

        context = super().get_context(request, *args, **kwargs)
        # Read only by fragments that are rendered when not cached (the article, the head).
        context["reports_index"] = SimpleLazyObject(self._reports_index)
        context["content_version"] = content_version(request)
        if getattr(request, "is_preview", False):
            # A preview must not change the live thread (the draft may switch replies off).
            context["thread"] = thread_for_report(self, create=False) if self.pk else None
        else:
            context["thread"] = thread_for_report(self, refresh=False)
            sharedreads.read_ahead(self._shared_keys(request, context["content_version"]))
        return context

    def _shared_keys(self, request, version: int) -> list[str]:
        """What the template (publishing/report_page.html and base.html) then reads from the
        shared cache, read here in one round trip: its ``{% cache %}`` fragments (their keys as
        the tags make them), the menu, the page's translations and the discussion's rules."""
        from wagtail.models import Site

        from speakout.discussion.models import DiscussionSettings
        from speakout.theme.languages import content_language_of
        from speakout.theme.templatetags.speakout_theme import menu_key, translations_key

        language, host = get_language(), request.get_host()
        page = (self.pk, self.live_revision_id, version, language)
        keys = [
            make_template_fragment_key("report_meta", [*page, host]),
            make_template_fragment_key("report_head", page),
            make_template_fragment_key("report_article", page),
            make_template_fragment_key("fediverse_handle", [version, language]),
            translations_key(self.pk, host, version),
            *DiscussionSettings.shared_keys(),
        ]
        site = Site.find_for_request(request)
        if site is not None:
            keys.append(menu_key(site.pk, content_language_of(request.path_info), version))
        return keys


class StandardPage(SeoMixin, Page):
    """About, Get involved and other pages that are not reports."""

    intro = models.TextField(_("introduction"), blank=True)
    body = StreamField(ReportBodyBlock(), verbose_name=_("body"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("body")]
    search_fields = Page.search_fields + [index.SearchField("intro"), index.SearchField("body")]

    template = "publishing/standard_page.html"

    class Meta:
        verbose_name = _("standard page")

    def get_meta_description(self) -> str:
        return self.search_description or self.intro
