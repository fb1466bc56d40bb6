"""A one-line progress bar for the terminal: share done, items and replies per second, time left."""

from __future__ import annotations

import time

from django.utils.translation import gettext as _
from django.utils.translation import ngettext


class ProgressBar:
    width = 24
    every = 0.2  # seconds between two redraws

    def __init__(self, stream):
        self.stream = stream
        self._last = 0.0
        self._shown = False

    def __call__(self, progress) -> None:
        now = time.monotonic()
        if now - self._last < self.every and progress.fraction < 1:
            return
        self._last = now
        info = progress.as_dict()
        filled = int(self.width * progress.fraction)
        left = info["seconds_left"]
        remaining = _("%(seconds)s s left") % {"seconds": left} if left is not None else "…"
        items = ngettext("%(count)s item", "%(count)s items", info["items"]) % {"count": info["items"]}
        replies = ngettext("%(count)s reply", "%(count)s replies", info["replies"]) % {"count": info["replies"]}
        line = _("%(bar)s %(percent)3d%% · %(items)s (%(ips)s/s) · %(replies)s (%(rps)s/s) · %(left)s") % {
            "bar": "[" + "#" * filled + "-" * (self.width - filled) + "]",
            "percent": int(progress.fraction * 100),
            "items": items,
            "ips": info["items_per_second"],
            "replies": replies,
            "rps": info["replies_per_second"],
            "left": remaining,
        }
        self.stream.write("\r" + line.ljust(100))
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        if self._shown:
            self.stream.write("\n")
            self.stream.flush()
