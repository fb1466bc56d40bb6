"""Settings of the interchange app, read when accessed so override_settings works. Each comes
from an environment variable (speakout/settings.py, docs/configuration.md)."""

from __future__ import annotations

from speakout.conf import Setting

MB = 1024 * 1024


class AppSettings:
    prefix = "SPEAKOUT_INTERCHANGE_"

    #: The largest export file (WXR, Disqus, Isso) the Import screen takes, in bytes.
    MAX_UPLOAD_BYTES = Setting(1024 * MB)
    #: The most a media archive may unpack to, in bytes; also the largest one the Import screen
    #: takes (a .tar is never smaller than what it holds unless it is compressed).
    MEDIA_MAX_BYTES = Setting(20 * 1024 * MB)
    #: The most entries (files and folders) a media archive may hold.
    MEDIA_MAX_FILES = Setting(200_000)
    #: The largest single file a media archive may hold, in bytes.
    MEDIA_MAX_FILE_BYTES = Setting(1024 * MB)
    #: Days after which the worker deletes what an import left: the uploads of a run that ended,
    #: never started or stopped with its worker, fetched media no import used since, and scratch
    #: folders (0: never).
    LEFTOVER_DAYS = Setting(7)


app_settings = AppSettings()


def __getattr__(name: str):
    return getattr(app_settings, name)
