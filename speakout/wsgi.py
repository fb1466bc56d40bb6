import os
import sys

from speakout.memory import leave_out_unused_libraries, settle, tune

tune()  # before Django is loaded: see speakout/memory.py

# A thread back from SQLite or Redis waits for the GIL until the thread running Python lets it
# go, by default after 5 ms: a long wait for a thread inside a write transaction, which every
# writer of every process waits for in turn (SQLite has one write lock). At 0.5 ms it is back
# sooner (docs/production.md, "Threads").
SWITCH_INTERVAL = 0.0005
sys.setswitchinterval(SWITCH_INTERVAL)

from django.conf import settings  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "speakout.settings")
leave_out_unused_libraries(settings)  # before the apps load: see speakout/memory.py

from speakout.pagecache.front import PageCacheFront  # noqa: E402  (after the settings module is named)

# Anonymous page-cache hits are answered in front of Django (docs/caching.md); the rest is Django.
application = PageCacheFront(get_wsgi_application())
settle()  # the apps' objects out of full garbage collections: see speakout/memory.py
