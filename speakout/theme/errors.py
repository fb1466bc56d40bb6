"""The site's answer to an error nobody caught: a 503 with the typed text when the database is
unavailable, Django's plain 500 page otherwise.

Django calls ``handler500`` (set in ``speakout/urls.py``) for an exception raised anywhere in a
view or a middleware, inside the ``except`` block, so the exception is still at hand. When the
database is down, locked for too long or its disk is full, the driver's error reaches here as
``OperationalError`` or ``InterfaceError``: the request's transaction was rolled back, and the
reader gets "could not save, please try again" with every field they typed, ready to send again
(see docs/reliability.md). A retried reply keeps its ``submission_id``, so it is never stored twice.

The page needs no database: it is rendered without context processors (they read the Wagtail
site) and the CSRF token is passed in by hand.
"""

from __future__ import annotations

import errno
import json
import os
import sys

from django.core.exceptions import SuspiciousOperation
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse, RawPostDataException
from django.http.multipartparser import MultiPartParserError
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import defaults
from django.views.debug import SafeExceptionReporterFilter
from django.views.decorators.csrf import requires_csrf_token

from speakout.net import crossorigin

RETRY_AFTER_SECONDS = 10

# Fields a person never types: sent back as they came, out of sight.
MACHINE_FIELDS = {"thread", "parent", "form_token", "submission_id", "homepage", "confirm", "next"}
# The CSRF token is replaced by a fresh one.
DROPPED_FIELDS = {"csrfmiddlewaretoken"}
LABELS = {
    "name": gettext_lazy("Name"),
    "email": gettext_lazy("Email"),
    "website": gettext_lazy("Website"),
    "body": gettext_lazy("Reply"),
    "message": gettext_lazy("Message"),
    "topic": gettext_lazy("Topic"),
}
LONG_TEXT_FIELDS = {"body", "message", "note"}


class ReporterFilter(SafeExceptionReporterFilter):
    """Django's filter for error reports (``DEFAULT_EXCEPTION_REPORTER_FILTER``), which hides
    settings and request values by name (KEY, SECRET, PASS, TOKEN...), plus: every value in
    ``request.META`` that came from the process's environment, whatever its name. granian puts
    the whole environment in each request's WSGI environ, so a debug page would otherwise show
    ``DATABASE_URL`` and ``REDIS_URL`` with their passwords."""

    def get_safe_request_meta(self, request):
        meta = super().get_safe_request_meta(request)
        for name, value in meta.items():
            if not name.startswith("HTTP_") and os.environ.get(name) == value:
                meta[name] = self.cleansed_substitute
        return meta


# The data folder's disk is full: with SQLite the page cache's version files live beside the
# database, so a reply's first write to fail there can be the version bump in its transaction.
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def database_unavailable(error: BaseException | None) -> bool:
    """Whether ``error`` (or what it was raised from) says the database, or the disk it writes
    to, cannot be used now."""
    while error is not None:
        if isinstance(error, (OperationalError, InterfaceError)):
            return True
        if isinstance(error, OSError) and error.errno in DISK_FULL:
            return True
        error = error.__cause__
    return False


@requires_csrf_token
def server_error(request, template_name: str = "500.html"):
    if database_unavailable(sys.exc_info()[1]):
        return unavailable(request)
    return defaults.server_error(request, template_name)


def submitted_fields(request) -> list[tuple[str, str]]:
    """What the request carried, as (name, value) pairs in order: the form's fields, or the
    members of a JSON object (text only; nothing that could not be read is invented)."""
    if request.method != "POST":
        return []
    try:
        if request.content_type == "application/json":
            data = json.loads(request.body)
            if not isinstance(data, dict):
                return []
            return [(str(name), value) for name, value in data.items() if isinstance(value, str)]
        return [(name, value) for name, values in request.POST.lists() for value in values]
    except (ValueError, SuspiciousOperation, RawPostDataException, MultiPartParserError):
        # A body that is too big, malformed or already consumed: answer the 503 without it.
        return []


def wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "") or request.content_type == "application/json"


def _sent_from_this_site(request) -> bool:
    try:
        return crossorigin.sent_from_this_site(request)
    except (ValueError, SuspiciousOperation, RawPostDataException, MultiPartParserError):
        return False  # a body that cannot be read (the token check reads it): nothing to hand back


def unavailable(request):
    """The 503 answer: HTML with the form to send again, or JSON with the fields echoed."""
    as_json = wants_json(request)
    # The database may fail in a middleware before the cross-site check has run (the admin's
    # second-factor check, the embed's allow-list): a forged post handed back in a form with a
    # valid token would be sent from this site by one press of "Send again".
    hand_back = request.method == "POST" and (as_json or _sent_from_this_site(request))
    fields = []
    if hand_back:
        fields = [(name, value) for name, value in submitted_fields(request) if name not in DROPPED_FIELDS]
        message = _("Could not save, please try again in a moment. Nothing you typed is lost: it is all here.")
    else:
        message = _("The site cannot reach its database just now. Please try again in a moment.")
    if as_json:
        values: dict[str, list[str]] = {}
        for name, value in fields:
            values.setdefault(name, []).append(value)
        # A field sent once is a string, one sent several times a list.
        submitted = {name: sent[0] if len(sent) == 1 else sent for name, sent in values.items()}
        body = {"outcome": "unavailable", "code": "unavailable", "errors": {"__all__": [message]}}
        if request.method == "POST":
            body["submitted"] = submitted
        response = JsonResponse(body, status=503)
    else:
        context = {
            "message": message,
            "action": request.get_full_path(),
            "visible": [
                {
                    "name": name,
                    "value": value,
                    "label": LABELS.get(name, name),
                    "long": name in LONG_TEXT_FIELDS or "\n" in value,
                }
                for name, value in fields
                if name not in MACHINE_FIELDS and value != "on"
            ],
            "hidden": [(name, value) for name, value in fields if name in MACHINE_FIELDS or value == "on"],
            "csrf_token": get_token(request) if hand_back else "",
            "LANGUAGE_CODE": getattr(request, "LANGUAGE_CODE", ""),
        }
        response = HttpResponse(render_to_string("503.html", context), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response
