"""The page cache in front of Django: a WSGI application that answers cache hits itself, before
Django builds a request and runs its middleware (which cost more than the answer).

It answers only request shapes (path, host, scheme, language cookie, Accept-Language and
-Encoding) that Django itself answered from the page cache, with the same lookup (so the same
versions: a change shows on the next request) and the headers Django's outer middleware added;
the rest goes to Django. Shapes are learnt per process (a bounded table): docs/caching.md.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from django.conf import settings
from django.core.handlers.wsgi import WSGIRequest
from django.http import parse_cookie
from django.utils.cache import patch_vary_headers

from . import app_settings
from .middleware import ENVIRON_KEY, asks_for_json_ld, lookup, respond

SHAPES = 4096
# Headers that belong to one response, not to every response of a shape.
_PER_RESPONSE = {"set-cookie", "content-length", "date", "server"}
# Headers ``respond`` writes from the entry itself; the rest of a learned response is the outer
# middleware's. Vary is merged, since both add to it.
_OWN = {"content-type", "content-encoding", "etag", "last-modified", "cache-control", "x-speakout-cache"}


class PageCacheFront:
    """Wrap Django's WSGI application: ``application = PageCacheFront(get_wsgi_application())``."""

    def __init__(self, application):
        self.application = application
        self._shapes: OrderedDict[tuple, tuple[str, str, list[tuple[str, str]]]] = OrderedDict()
        self._prepared: dict[tuple, tuple] = {}  # shape → (entry, status, headers, body)
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        shape = self.shape(environ)
        if shape is None:
            return self.application(environ, start_response)
        learned = self._shapes.get(shape)
        if learned is not None:
            try:
                answer = self.answer(environ, *learned, shape=shape)
            except Exception:  # the shared cache unreachable, say: Django answers, or reports it
                answer = None
            if answer is not None:
                status, headers, body = answer
                start_response(status, headers)
                return [body]
        return self.application(environ, self._learning(environ, start_response, shape))

    @staticmethod
    def shape(environ) -> tuple | None:
        """What Django's answer to this request depends on, or None if the cache cannot answer it."""
        if environ.get("REQUEST_METHOD") != "GET" or environ.get("QUERY_STRING") or not app_settings.ENABLED:
            return None
        if "HTTP_ORIGIN" in environ or "HTTP_HOST" not in environ:
            return None
        if asks_for_json_ld(environ.get("HTTP_ACCEPT", "")):
            return None
        if not environ.keys().isdisjoint(app_settings.PERSONAL_HEADERS):
            return None
        path = environ.get("PATH_INFO", "")
        if not path.startswith("/") or path.startswith(app_settings.EXCLUDED_PREFIXES):
            return None
        language = ""
        if "HTTP_COOKIE" in environ:
            cookies = parse_cookie(environ["HTTP_COOKIE"])
            neutral = app_settings.NEUTRAL_COOKIES
            if any(name not in neutral for name in cookies):
                return None
            language = cookies.get(settings.LANGUAGE_COOKIE_NAME, "")
        return (
            environ.get("SCRIPT_NAME", ""),
            path,
            environ["HTTP_HOST"],
            environ.get("wsgi.url_scheme", "http"),
            environ.get("HTTP_X_FORWARDED_PROTO", ""),
            language,
            environ.get("HTTP_ACCEPT_LANGUAGE", ""),
            environ.get("HTTP_ACCEPT_ENCODING", ""),
        )

    def answer(self, environ, base: str, encoding: str, outer: list[tuple[str, str]], shape: tuple | None = None):
        """(status, headers, body) for a hit, or None to let Django answer."""
        entry = lookup(base, encoding)
        if entry is None:
            return None
        if shape is not None and "HTTP_IF_NONE_MATCH" not in environ:
            # The same bytes for every reader: the whole answer is built once per entry and
            # shape, then sent as it is.
            prepared = self._prepared.get(shape)
            if prepared is None or prepared[0] is not entry:
                prepared = (entry, *self._same_for_everyone(environ, entry, outer))
                with self._lock:
                    if shape in self._shapes:  # forgotten shapes take their answers with them
                        self._prepared[shape] = prepared
            return prepared[1:]
        return self._same_for_everyone(environ, entry, outer)

    @staticmethod
    def _same_for_everyone(environ, entry, outer: list[tuple[str, str]]):
        """The answer to a request of this shape (the same for every request while ``entry``
        stands): no cookie is read or set."""
        response = respond(WSGIRequest(environ), entry, "hit")
        for name, value in outer:
            if name.lower() == "vary":
                patch_vary_headers(response, [part.strip() for part in value.split(",")])
            elif name not in response:
                response[name] = value
        headers = [*response.items(), ("Content-Length", str(len(response.content)))]
        return f"{response.status_code} {response.reason_phrase}", headers, response.content

    def _learning(self, environ, start_response, shape: tuple):
        def learn(status, headers, exc_info=None):
            answered = environ.get(ENVIRON_KEY)
            if answered is not None and status.startswith("200 "):
                self._remember(shape, *answered, headers)
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        return learn

    def _remember(self, shape: tuple, base: str, encoding: str, headers) -> None:
        outer = [(name, value) for name, value in headers if name.lower() not in _PER_RESPONSE | _OWN]
        with self._lock:
            self._shapes[shape] = (base, encoding, outer)
            self._shapes.move_to_end(shape)
            self._prepared.pop(shape, None)
            while len(self._shapes) > SHAPES:
                forgotten, _learned = self._shapes.popitem(last=False)
                self._prepared.pop(forgotten, None)
