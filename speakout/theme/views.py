from __future__ import annotations

import posixpath

from django.conf import settings
from django.http import Http404
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.i18n import set_language as django_set_language
from django.views.static import serve

from .languages import content_default, content_language_of, supported


def set_language(request):
    """The footer's language switcher: Django's view (the cookie, a safe ``next``), and for a
    signed-in reader the choice is kept with the account too, so the mail they get is in it."""
    response = django_set_language(request)
    language = supported(request.POST.get("language"))
    if request.method == "POST" and language and response.status_code == 302:
        # Django would rewrite the address with the language's prefix (translate_url), which
        # only suits i18n_patterns; here a page's other versions have addresses of their own.
        next_url = _safe_next(request)
        response["Location"] = _version_in(request, next_url, language) or next_url
    if request.method == "POST" and language and request.user.is_authenticated:
        from wagtail.users.models import UserProfile

        profile = UserProfile.get_for_user(request.user)
        if profile.preferred_language != language:
            profile.preferred_language = language
            profile.save(update_fields=["preferred_language"])
    return response


def _safe_next(request) -> str:
    """Where Django's view would send the reader before translating the address: ``next`` if it
    is on this site, else the referring page if it is, else the home page."""
    for candidate in (request.POST.get("next", request.GET.get("next")), request.META.get("HTTP_REFERER")):
        if candidate and url_has_allowed_host_and_scheme(
            url=candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return candidate
    return "/"


def _version_in(request, next_url: str, language: str) -> str | None:
    """Where a reader of the page at ``next_url`` goes on choosing ``language``: the page's
    version in that language; else, from a page whose address names another language, the
    default language's version (unprefixed addresses read in the reader's own language); else
    the page itself. None when ``next_url`` is no page."""
    from urllib.parse import urlsplit

    from django.urls import Resolver404, resolve
    from wagtail.models import Site

    from .translations import site_root_in, translation_in

    path = urlsplit(next_url).path
    try:
        match = resolve(path)
    except Resolver404:
        return None
    if match.url_name != "wagtail_serve":
        return None
    site = Site.find_for_request(request)
    prefixed = content_language_of(path)
    root = site_root_in(site, prefixed) if site is not None else None
    if root is None:
        return None
    try:
        parts = [part for part in (match.args or [""])[0].split("/") if part]
        page = root.specific.route(request, parts)[0]
    except Http404:
        return None
    version = translation_in(page, language)
    if version is None and prefixed is not None:
        version = translation_in(page, content_default())
    if version is None or version.pk == page.pk:
        return next_url
    return version.get_url(request)


# Wagtail's image folders (originals and renditions). Documents are left out: Wagtail's own view
# serves them after asking their collection's privacy, which this address would skip.
SERVED_MEDIA_FOLDERS = ("original_images/", "images/")


def serve_media(request, path: str):
    """Uploaded images from MEDIA_ROOT as it is set now (not as it was when the URLs were first
    loaded: a folder fixed then would outlive a changed setting)."""
    if not posixpath.normpath(path).lstrip("/").startswith(SERVED_MEDIA_FOLDERS):
        raise Http404
    return serve(request, path, document_root=settings.MEDIA_ROOT)
