import os

from speakout.memory import tune

tune()  # before Django is loaded: see speakout/memory.py

from django.core.wsgi import get_wsgi_application  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "speakout.settings")

from speakout.pagecache.front import PageCacheFront  # noqa: E402  (after the settings module is named)

# Anonymous page-cache hits are answered in front of Django (docs/caching.md); the rest is Django.
application = PageCacheFront(get_wsgi_application())
