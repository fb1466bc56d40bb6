"""What Speakout takes from other packages' private APIs, each used in one module, checked here so
an upgrade that changes one fails loudly instead of quietly making pages slower or wrong.

* ``speakout/publishing/routing.py``: Wagtail's per-request memos ``request._wagtail_site``
  (``Site.find_for_request``) and ``request._wagtail_route_for_request``
  (``Page.route_for_request``), and ``wagtail.url_routing.RouteResult``.
* ``speakout/interchange/tree.py``: treebeard's path arithmetic (``steplen``, ``alphabet``,
  ``_str2int``, ``_int2str``, ``_get_path``, ``_inc_path``); tests/interchange/test_tree.py
  compares a page it places with one ``add_child`` makes.
* ``speakout/identity/lazy.py``: allauth's WebAuthn module name (tests/identity/test_lazy.py).
"""

from __future__ import annotations

import importlib.util

import pytest
from django.test import RequestFactory
from wagtail.models import Page, Site
from wagtail.url_routing import RouteResult

from speakout.identity.lazy import LAZY_MODULES
from speakout.interchange.tree import next_path

pytestmark = pytest.mark.django_db


def test_wagtail_reads_its_site_memo_from_the_request():
    request = RequestFactory().get("/")
    sentinel = object()
    request._wagtail_site = sentinel
    assert Site.find_for_request(request) is sentinel, "Wagtail no longer memoises the site as routing.py expects"


def test_wagtail_reads_its_route_memo_from_the_request():
    request = RequestFactory().get("/anything/")
    page = Page(title="Remembered", slug="remembered")
    request._wagtail_route_for_request = RouteResult(page)
    found = Page.route_for_request(request, "/anything/")
    assert found is not None and found.page is page, "Wagtail no longer memoises routes as routing.py expects"


@pytest.mark.parametrize("path", ["0001", "00010001", "0001000Z", "000100010009", "0001ZZZY"])
def test_the_importers_next_path_is_treebeards(path):
    node = Page(path=path, depth=len(path) // Page.steplen)
    assert next_path(path) == node._inc_path(), "treebeard's path arithmetic changed; see interchange/tree.py"


def test_the_deferred_allauth_modules_still_exist():
    missing = [name for name in LAZY_MODULES if importlib.util.find_spec(name) is None]
    assert not missing, f"allauth moved {missing}; identity/lazy.py would silently defer nothing"
