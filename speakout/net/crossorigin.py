"""Cross-site request forgery protection from the browser's own headers (Fetch Metadata).

Browsers say where a request comes from: ``Sec-Fetch-Site`` (every current browser) and
``Origin`` (on every unsafe request, for years). The rule is the one Go's
``http.CrossOriginProtection`` applies:

* ``Sec-Fetch-Site: same-origin`` or ``none`` (typed, bookmarked): allowed;
* ``cross-site`` or ``same-site``: refused, unless the ``Origin`` is trusted;
* no ``Sec-Fetch-Site`` but an ``Origin``: allowed only if it is the site's own or trusted;
* neither header: not a browser that can be tricked this way, or a very old one; Django's own
  token check stands for it, so a form without the token is refused as before.

So a form needs no per-reader token, and a page from the shared cache posts in one press without
JavaScript. Trusted origins are ``CSRF_TRUSTED_ORIGINS`` (wildcards as Django reads them) and
the public address in ``SPEAKOUT_BASE_URL``. The embed's paths need none: their writes are checked
against the embed allow-list by ``speakout.embed.middleware`` and carry no session (the JSON APIs)
or are exempt (Isso's endpoints); login providers' callbacks arrive as GET requests.

Why not the django-modern-csrf package: it lets requests with neither header through without any
check, and it replaces Django's middleware, so ``get_token`` and the CSRF cookie that rendered
forms still carry for such clients would go. Subclassing Django's middleware keeps both.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.middleware.csrf import CsrfViewMiddleware

REASON_CROSS_SITE = "Sent from another site (Sec-Fetch-Site: %s)."
REASON_FOREIGN_ORIGIN = "Sent from another origin (%s)."
_USER_AGENT_SITES = {"same-origin", "none"}


def _base_origin() -> str:
    parts = urlsplit(getattr(settings, "BASE_URL", ""))
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


class CrossOriginProtectionMiddleware(CsrfViewMiddleware):
    """In ``MIDDLEWARE`` where Django's ``CsrfViewMiddleware`` was; ``csrf_exempt`` still exempts."""

    def process_view(self, request, callback, callback_args, callback_kwargs):
        if getattr(request, "csrf_processing_done", False) or getattr(callback, "csrf_exempt", False):
            return super().process_view(request, callback, callback_args, callback_kwargs)
        if request.method in ("GET", "HEAD", "OPTIONS", "TRACE"):
            return super().process_view(request, callback, callback_args, callback_kwargs)
        if getattr(request, "_dont_enforce_csrf_checks", False):
            return self._accept(request)
        site = request.META.get("HTTP_SEC_FETCH_SITE")
        origin = request.META.get("HTTP_ORIGIN")
        if site is not None:
            if site in _USER_AGENT_SITES or (origin is not None and self._trusted(request, origin)):
                return self._accept(request)
            return self._reject(request, REASON_CROSS_SITE % site[:40])
        if origin is not None:
            if self._trusted(request, origin):
                return self._accept(request)
            return self._reject(request, REASON_FOREIGN_ORIGIN % origin[:200])
        # Neither header: Django's token check.
        return super().process_view(request, callback, callback_args, callback_kwargs)

    def _trusted(self, request, origin: str) -> bool:
        if origin == "null":
            return False
        base = _base_origin()
        if base and origin == base:
            return True
        return self._origin_verified(request)  # the request's own origin, or CSRF_TRUSTED_ORIGINS


def _no_view(request):
    raise AssertionError("sent_from_this_site() judges a request; it runs no view")


def sent_from_this_site(request) -> bool:
    """Whether the rule above takes ``request`` as sent from the site's own pages, for an answer
    made where the middleware may not have judged it yet (an error raised in an earlier
    middleware): only then may it hand the request's fields back with a token."""
    return CrossOriginProtectionMiddleware(_no_view).process_view(request, _no_view, (), {}) is None
