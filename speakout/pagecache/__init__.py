"""The anonymous page cache: whole responses for readers with nothing of their own on the page.

Public surface, for the apps whose pages and endpoints it caches:

* ``share(request, *dependencies)`` (``speakout.pagecache.capture``): this response is the same
  for every anonymous reader and may be stored; it stays valid while the named versions stand.
* ``depends_on(request, *names)``: add versions while rendering (a thread, the settings).
* ``per_request(request, func, *args)`` (``speakout.pagecache.holes``): a value that must be
  fresh for every reader (a time-trap token). CSRF tokens are handled without any call. A stored
  HTML page holds fill markers in their place; ``pagecache/fill.js`` fills them in from
  ``/pagecache/fill``, and the CSRF failure view does it for readers without JavaScript
  (``speakout.pagecache.views``). Pages using these must extend the theme's ``base.html``, which
  loads the script, or load it themselves.
* ``bump(*names)`` (``speakout.pagecache.versions``): something those names stand for changed.

The design (why a placeholder for the CSRF token, which requests bypass the cache, the HTTP
headers) is described in docs/caching.md. Nothing here imports another Speakout app.
"""
