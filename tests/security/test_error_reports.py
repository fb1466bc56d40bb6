"""Error reports (Django's debug page) hide what granian copies from the process's environment
into every request's META, whatever the variable is called."""

from __future__ import annotations

import sys

from django.views.debug import technical_500_response

# Kept out of the test's own lines: the debug page shows the source around the error.
PASSWORD = "hunter2-not-shown"
DSN = f"postgres://speakout:{PASSWORD}@db.internal/speakout"


def test_a_debug_page_hides_the_environment_in_request_meta(rf, monkeypatch):
    # A name Django's own filter lets through (no KEY, SECRET, PASS or TOKEN in it).
    monkeypatch.setenv("SPEAKOUT_TEST_DSN", DSN)
    # As granian builds it: the environment, then the request's own values.
    request = rf.get("/broken/", SPEAKOUT_TEST_DSN=DSN, HTTP_X_READER_NOTE="a header is shown")
    try:
        raise ValueError("broken on purpose")
    except ValueError:
        page = technical_500_response(request, *sys.exc_info()).content.decode()
    assert "broken on purpose" in page
    assert PASSWORD not in page
    assert "SPEAKOUT_TEST_DSN" in page  # named, its value replaced
    assert "a header is shown" in page  # what the request itself carried stays readable
    assert "/broken/" in page
