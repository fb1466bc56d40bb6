"""CORS for the embed paths, the Origin check on writes, and the sign-in window's opener.

Why not django-cors-headers: it has one credentials switch for the whole site, and the two
APIs need opposite answers. Speakout's own API and the widget's endpoints run with credentials
off (identity travels in headers, so no cookie can be abused cross-site), while Isso's client
always sends ``withCredentials`` and keeps its edit rights in a cookie, so its endpoints must
allow credentials for exactly the allow-listed origins. The rules fit in this one class,
scoped to three path prefixes; everything else on the site gets no CORS header at all.

Every unsafe request (POST, PUT, PATCH, DELETE) to those paths that carries an ``Origin``
other than Speakout's own must come from an allow-listed origin, or it is refused with 403
before any view runs. Browsers always send ``Origin`` on such requests; programs that send none
(curl, a server) are not browsers and CORS does not concern them.
"""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _

from speakout.discussion.services import Outcome

from . import app_settings
from .origins import allowed, normalise_origin, own_origin

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
ALLOW_METHODS = "GET, POST, PUT, PATCH, DELETE"
ALLOW_HEADERS = "Content-Type, X-Speakout-Guest, X-Speakout-User"
SIGNIN_COOKIE = "speakout_embed_signin"


def embed_prefixes() -> tuple[tuple[str, bool], ...]:
    """(path prefix, credentials allowed) for every path the widget or Isso's client calls."""
    prefixes = [("/api/", False), ("/embed/", False)]
    if app_settings.ISSO_PREFIX:
        prefixes.append((f"/{app_settings.ISSO_PREFIX}/", True))
    return tuple(prefixes)


def _forbidden_origin() -> HttpResponse:
    body = {
        "outcome": Outcome.REJECTED,
        "code": "origin",
        "errors": {"__all__": [_("This site is not allowed to post here.")]},
    }
    return JsonResponse(body, status=403)


def _isso_route(request) -> bool:
    try:
        match = resolve(request.path_info, getattr(request, "urlconf", None))
    except Resolver404:
        return False
    return (match.url_name or "").startswith("isso_")


class EmbedMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        credentials = next((creds for prefix, creds in embed_prefixes() if request.path_info.startswith(prefix)), None)
        # Outside the embed paths; or outside Isso's own routes, the only ones that keep rights in
        # a cookie: a page that merely shares their prefix (a section named like it) must not be
        # read by other sites with the cookies.
        if credentials is None or (credentials and not _isso_route(request)):
            return self._opener(request, self.get_response(request))
        origin = request.headers.get("Origin")
        entry = response = None
        if origin is not None and normalise_origin(origin) != own_origin(request):
            entry = allowed(origin)
            if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
                response = HttpResponse(status=204 if entry else 403)
                if entry:
                    response["Access-Control-Allow-Methods"] = ALLOW_METHODS
                    response["Access-Control-Allow-Headers"] = ALLOW_HEADERS
                    response["Access-Control-Max-Age"] = str(app_settings.CORS_MAX_AGE)
            elif request.method not in SAFE_METHODS and entry is None:
                response = _forbidden_origin()
        if response is None:
            request.speakout_embed_origin = entry
            response = self.get_response(request)
        if entry is not None:
            response["Access-Control-Allow-Origin"] = entry.origin
            if credentials:
                response["Access-Control-Allow-Credentials"] = "true"
                response["Access-Control-Expose-Headers"] = "X-Set-Cookie, Date"
        patch_vary_headers(response, ["Origin"])
        return response

    @staticmethod
    def _opener(request, response):
        # The site sends Cross-Origin-Opener-Policy: same-origin, which cuts a window off from
        # the page that opened it. While someone signs in through the widget's window (a short
        # cookie the sign-in view sets), the login pages keep the browser's default instead, so
        # the window can still hand its token to the embedding page at the end.
        if SIGNIN_COOKIE in request.COOKIES:
            response["Cross-Origin-Opener-Policy"] = "unsafe-none"
        return response
