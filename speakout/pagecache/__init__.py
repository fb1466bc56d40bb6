"""The anonymous page cache: whole responses for readers with nothing of their own on the page.

Public surface, for the apps whose pages and endpoints it caches:

* ``share(request, *dependencies)`` (``speakout.pagecache.capture``): this response is the same
  for every anonymous reader and may be stored; it stays valid while the named versions stand.
  ``keep_private(request)``: something in it is for this reader alone, never store it.
* ``depends_on(request, *names)``: add versions while rendering (a thread, the settings).
* ``per_request(request, func, *args)`` (``speakout.pagecache.holes``): a value that must be
  fresh for every reader (a time-trap token, a submission id). A stored page holds fill markers
  in their place (only HTML pages with such values are stored): ``pagecache/fill.js`` fills them
  in from ``/pagecache/fill``, and a form sent without the script carries the marker, which
  ``holes.is_marker`` tells from a value. Pages using these must extend the theme's
  ``base.html``, which loads the script, or load it themselves. Pages rendered for the cache
  carry no CSRF token (speakout/net/crossorigin.py).
* ``bump(*names)`` (``speakout.pagecache.versions``): something those names stand for changed.

The design (which requests bypass the cache, the HTTP headers) is described in docs/caching.md;
every cache of the site is listed in docs/architecture.md.
Nothing here imports another Speakout app.
"""
