"""Speakout's dealings with the network outside a request: who the client is behind proxies
(``addresses``), the Redis cache backend (``rediscache``), and fetching a URL from the server
without reaching inside the network (``fetch``), and files for the site's own user alone
(``files``). Plain modules, not a Django app: every app may
use them."""
