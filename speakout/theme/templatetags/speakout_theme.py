from django import template
from django.core.cache import cache
from wagtail.models import Site

from speakout.theme.cache import content_version

register = template.Library()


@register.simple_tag(takes_context=True)
def main_menu(context):
    """Pages the editors ticked "show in menus" under the site's home page, in tree order."""
    request = context.get("request")
    site = Site.find_for_request(request) if request is not None else None
    if site is None:
        return []
    key = f"speakout:menu:{site.pk}:{content_version()}"
    menu = cache.get(key)
    if menu is None:
        menu = [
            {"pk": page.pk, "title": page.title, "url": page.get_url(request)}
            for page in site.root_page.get_children().live().public().in_menu()
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
