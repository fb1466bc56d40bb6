"""Page routing that remembers its answers.

Wagtail finds the page for a path by walking the tree from the site's root, two queries per
level (the child, then its specific type), after a query for the site. For a report that is six
or seven queries and most of an uncached page's time. This view asks Wagtail once and remembers
which site answers a host and which page answers a path, under the content version
(``speakout.theme.cache``): publishing, unpublishing, moving a page, changing a slug and saving a
site all bump it, so a remembered answer never outlives what it was built from. The next request
then takes the page from the row remembered with the route (loaded by its primary key once per
version, kept pickled so each request gets an instance of its own) and hands it to Wagtail's own
``serve`` view, which runs the ``before_serve_page`` hooks (view restrictions, the page cache) as
usual. A published edit bumps the version too; what changes a page row without bumping it (a
draft saved, a page locked) is nothing a reader sees.

Only plain answers are remembered: a live page of a type that does not route further itself
(reports, standard pages, the home page). Index pages with sub-routes (categories, tags, feeds)
and anything unusual are routed by Wagtail every time. The memory is per process and small; the
version it is keyed by lives in the shared cache, so a change made through any process counts.
"""

from __future__ import annotations

import pickle
import threading
from collections import OrderedDict

from django.http import Http404
from wagtail.models import Page, Site
from wagtail.url_routing import RouteResult
from wagtail.views import serve as wagtail_serve

from speakout.theme.cache import content_version
from speakout.theme.languages import content_language_of
from speakout.theme.translations import site_root_in

REMEMBERED_ROUTES = 2000
_routes: OrderedDict[tuple, tuple[type[Page], int, bool]] = OrderedDict()  # → model, pk, unrestricted
_UNRESTRICTED = "_speakout_known_unrestricted"
# The pages' rows for the latest routes: loading one by its key costs more than the rest of the
# routing (a query joining the specific table, a StreamField decoded); a few KB each.
KEPT_PAGES = 256
_pages: OrderedDict[tuple, bytes] = OrderedDict()
_sites: dict[tuple, Site | None] = {}
_lock = threading.Lock()


def _site(request, version: int) -> Site | None:
    key = (request.get_host(), request.get_port(), version)
    try:
        site = _sites[key]
    except KeyError:
        site = Site.find_for_request(request)
        with _lock:
            if len(_sites) > 100:  # hosts are few; old versions' entries are dead weight
                _sites.clear()
            _sites[key] = site
    request._wagtail_site = site  # Wagtail's own per-request memo (see Site.find_for_request)
    return site


def _remembered_page(key: tuple) -> Page | None:
    with _lock:
        known = _routes.get(key)
        if known is not None:
            _routes.move_to_end(key)
        kept = _pages.get(key)
    if known is None:
        return None
    model, pk, unrestricted = known
    if kept is not None:
        page = pickle.loads(kept)  # nosec B301: bytes this process pickled itself, below
    else:
        page = model.objects.filter(pk=pk, live=True).first()
        if page is not None:
            row = pickle.dumps(page, pickle.HIGHEST_PROTOCOL)  # before this request marks it
            with _lock:
                _pages[key] = row
                while len(_pages) > KEPT_PAGES:
                    _pages.popitem(last=False)
    if page is not None and unrestricted:
        mark_unrestricted(page)
    return page


def mark_unrestricted(page: Page) -> None:
    """Note on the page (this request's instance) that it was just found to have no restriction."""
    setattr(page, _UNRESTRICTED, True)


def known_unrestricted(page: Page) -> bool:
    """Whether the page is known, under the current content version, to have no view
    restriction (its own or an ancestor's), so it need not be asked again."""
    return getattr(page, _UNRESTRICTED, False)


def _remember(key: tuple, route) -> None:
    page, args, kwargs = route
    if args or kwargs or type(page).route is not Page.route or not page.live:
        return
    if key in _routes:
        return
    # Adding, changing or removing a restriction bumps the content version (publishing/cache.py),
    # which the key carries: the answer is asked once per version, not once per request.
    unrestricted = known_unrestricted(page) or not page.get_view_restrictions().exists()
    with _lock:
        _routes[key] = (type(page), page.pk, unrestricted)
        while len(_routes) > REMEMBERED_ROUTES:
            _routes.popitem(last=False)


def _route(request, site: Site, path: str, content_language: str | None):
    """Wagtail's ``Page.route_for_request``, from the home page in the address's language."""
    root = site_root_in(site, content_language)
    if root is None:
        return None
    try:
        return root.specific.route(request, [part for part in path.split("/") if part])
    except Http404:
        return None


def forget_all() -> None:
    """Drop what this process remembers (tests; the content version normally does this)."""
    with _lock:
        _routes.clear()
        _pages.clear()
        _sites.clear()


def serve(request, path: str):
    """Wagtail's page view, with the route looked up from memory when it is known.

    The address's language prefix (publishing/languages.py) says which language's tree the
    page is looked for in, and an unprefixed address in the default language's,
    whatever language the reader reads the interface in (Wagtail alone would follow the latter).
    """
    content_language = content_language_of(request.path_info)
    version = content_version(request)
    site = _site(request, version)
    key = None
    if site is not None and not getattr(request, "is_preview", False):
        key = (site.pk, content_language, path, version)
        page = _remembered_page(key)
        if page is not None:
            # Wagtail's documented per-request memo of Page.route_for_request.
            request._wagtail_route_for_request = RouteResult(page)
    if site is not None and not hasattr(request, "_wagtail_route_for_request"):
        request._wagtail_route_for_request = _route(request, site, path, content_language)
    response = wagtail_serve(request, path)
    route = getattr(request, "_wagtail_route_for_request", None)
    if key is not None and route is not None:
        _remember(key, route)
    return response
