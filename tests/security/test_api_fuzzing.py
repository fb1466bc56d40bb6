"""schemathesis against the OpenAPI specs django-ninja publishes for the discussion API (/api/)
and the embed API (/embed/api/): generated requests, valid and not, never get a 500, and every
answer matches the spec (status code, content type, body schema). A bounded number of examples
per operation keeps each API well under a minute."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from speakout.discussion.services import get_or_create_thread
from speakout.embed.models import AllowedOrigin

pytestmark = pytest.mark.django_db

SITE = "https://blog.example.org"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
FUZZ = settings(
    max_examples=15,
    deadline=None,
    derandomize=True,  # the same requests every run: a failure can be reproduced
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)

app = get_wsgi_application()
discussion_api = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
embed_api = schemathesis.openapi.from_wsgi("/embed/api/openapi.json", app)


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """The WSGI handler closes "old" connections around each request, and one inside the test's
    transaction looks old on PostgreSQL; Django's test client keeps it open the same way."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def some_data(db):
    """A public thread with one reply, and an allowed embedding site, so requests can hit both
    found and not-found paths."""
    AllowedOrigin.objects.get_or_create(origin=SITE)
    get_or_create_thread("report-1", url="/reports/one/", title="One")


@discussion_api.parametrize()
@FUZZ
def test_the_discussion_api_answers_by_its_spec(case, some_data):
    case.call_and_validate(checks=CHECKS)


@embed_api.parametrize()
@FUZZ
def test_the_embed_api_answers_by_its_spec(case, some_data):
    case.headers = {**(case.headers or {}), "Origin": SITE}
    case.call_and_validate(checks=CHECKS)


def test_a_nul_in_an_embed_key_is_a_clear_400(client, some_data):
    """Found by the fuzzing on PostgreSQL, which cannot compare text holding NUL: it was a 500."""
    response = client.get("/embed/api/thread?key=/a%00b/", HTTP_ORIGIN=SITE)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and response.json()["errors"]["key"]


@pytest.mark.parametrize("spec", ["/api/openapi.json", "/embed/api/openapi.json"])
def test_every_operation_documents_the_400_any_of_them_can_answer(client, spec):
    """A NUL anywhere in the query string (a parameter's name too) is answered 400 before any view
    (theme.middleware), so every operation of both specs says it may answer 400."""
    operations = client.get(spec).json()["paths"]
    missing = [
        f"{method.upper()} {path}"
        for path, methods in operations.items()
        for method, operation in methods.items()
        if "400" not in operation["responses"]
    ]
    assert not missing
    answer = client.get("/embed/api/strings?name%00=1")
    assert answer.status_code == 400 and answer.json()["code"] == "invalid"
