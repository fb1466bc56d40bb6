"""The anonymous page cache: whole responses for readers with nothing of their own on the page.

Public surface, for the apps whose pages and endpoints it caches:

* ``share(request, *dependencies)`` (``speakout.pagecache.capture``): this response is the same
  for every anonymous reader and may be stored; it stays valid while the named versions stand.
* ``depends_on(request, *names)``: add versions while rendering (a thread, the settings).
* ``per_request(request, func, *args)`` (``speakout.pagecache.holes``): a value that must be
  fresh on every response (a time-trap token). CSRF tokens are handled without any call.
* ``bump(*names)`` (``speakout.pagecache.versions``): something those names stand for changed.

The design (why a placeholder for the CSRF token, which requests bypass the cache, the HTTP
headers) is described in docs/caching.md. Nothing here imports another Speakout app.
"""
