import os

from speakout.memory import leave_out_unused_libraries, tune

tune()  # before Django is loaded: see speakout/memory.py

from django.conf import settings  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "speakout.settings")
leave_out_unused_libraries(settings)  # before the apps load: see speakout/memory.py

from speakout.pagecache.front import PageCacheFront  # noqa: E402  (after the settings module is named)

# Anonymous page-cache hits are answered in front of Django (docs/caching.md); the rest is Django.
application = PageCacheFront(get_wsgi_application())
