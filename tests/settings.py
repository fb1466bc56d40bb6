"""Settings for the test suite: the real settings module, with a throwaway data folder,
tasks run immediately (so the search index and other queued work happen inline), and a fast
password hasher. DATABASE_URL picks SQLite (unset) or PostgreSQL, exactly as in production."""

import os
import tempfile

os.environ.setdefault("SPEAKOUT_DATA_DIR", tempfile.mkdtemp(prefix="speakout-test-"))

from speakout.settings import *  # noqa: E402,F403
from speakout.settings import ALLOWED_HOSTS  # noqa: E402

ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]
# The data folder above is shared by every xdist worker (the environment is inherited); the page
# cache's version files are each worker's own, as each worker's cache is.
if SPEAKOUT_PAGE_CACHE_VERSIONS_DIR:  # noqa: F405
    SPEAKOUT_PAGE_CACHE_VERSIONS_DIR = tempfile.mkdtemp(prefix="speakout-test-versions-")
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
