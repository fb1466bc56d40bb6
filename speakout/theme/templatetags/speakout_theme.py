from django import template
from django.core.cache import cache
from wagtail.models import Site

from speakout.net import sharedreads
from speakout.theme.cache import content_version
from speakout.theme.languages import content_default, content_language_of
from speakout.theme.translations import site_root_in

register = template.Library()


def menu_key(site_pk: int, language: str | None, version: int) -> str:
    return f"speakout:menu:{site_pk}:{language}:{version}"


def translations_key(page_pk: int, host: str, version: int) -> str:
    return f"speakout:translations:{page_pk}:{host}:{version}"


@register.simple_tag(takes_context=True)
def main_menu(context):
    """Pages the editors ticked "show in menus" under the site's home page, in tree order."""
    request = context.get("request")
    site = Site.find_for_request(request) if request is not None else None
    if site is None:
        return []
    # The menu of the language the page being read is written in (its home page's children).
    page = context.get("page")
    language = content_language_of(request.path_info) if page is not None else None
    key = menu_key(site.pk, language, content_version(request))
    menu = sharedreads.get(key)
    if menu is None:
        home = site_root_in(site, language) or site.root_page
        menu = [
            {"pk": page.pk, "title": page.title, "url": page.get_url(request)}
            for page in home.get_children().live().public().in_menu()
        ]
        cache.set(key, menu, 24 * 3600)
    return menu


@register.simple_tag(takes_context=True)
def absolute_url(context, url: str) -> str:
    """Turn a site-relative URL into an absolute one for canonical links and sharing cards."""
    if url.startswith(("http://", "https://")):
        return url
    request = context.get("request")
    site = Site.find_for_request(request) if request is not None else None
    root = site.root_url if site else ""
    return root + url


@register.simple_tag(takes_context=True)
def page_translations(context, page):
    """The versions of ``page`` in every language a reader may read it in (empty when there is
    only this one): the switcher's links and the ``hreflang`` alternates. Kept in the shared
    cache under the content version (publishing or unpublishing a version bumps it), so a page
    render costs no query for it."""
    from speakout.theme.translations import translations

    request = context.get("request")
    if page is None or not getattr(page, "pk", None) or getattr(request, "is_preview", False):
        return []
    host = request.get_host() if request is not None else ""
    key = translations_key(page.pk, host, content_version(request))
    versions = sharedreads.get(key)
    if versions is None:
        versions = translations(page, request)
        cache.set(key, versions, 24 * 3600)
    return versions


@register.simple_tag(takes_context=True)
def page_language(context, page) -> str:
    """The language ``page`` is written in, without a query: its locale's code as the address
    says it (a prefix names it; an unprefixed page is in the default language)."""
    request = context.get("request")
    prefixed = content_language_of(request.path_info) if request is not None else None
    return prefixed or content_default()


@register.simple_tag(takes_context=True)
def content_home(context) -> str:
    """The address of the home page in the language of the page being read."""
    request = context.get("request")
    language = content_language_of(request.path_info) if request is not None else None
    return f"/{language}/" if language else "/"
