"""The site's CSP middleware builds the settings' policies once (theme/middleware.py
``settings_policy``): every answer must carry the headers django-csp's own middleware gives it,
and a changed setting must show at once."""

from __future__ import annotations

import inspect

import pytest
from csp.constants import NONCE, SELF
from csp.exceptions import CSPNonceError
from csp.middleware import CSPMiddleware
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from speakout.theme.middleware import ContentSecurityPolicyMiddleware

HEADERS = ("Content-Security-Policy", "Content-Security-Policy-Report-Only")


class DjangoCsp(ContentSecurityPolicyMiddleware):
    """The site's policy choices (the admin's own), answered by django-csp's process_response."""

    process_response = CSPMiddleware.process_response


def answer(middleware_class, path="/report/", *, status=200, use_nonce=False, preset="", **response_attributes):
    """The answer's CSP headers (its nonce as NONCE), and whether reading the nonce afterwards
    is refused, as django-csp refuses it once the headers are written."""
    request = RequestFactory().get(path)
    response = HttpResponse(status=status)
    if preset:
        response["Content-Security-Policy"] = preset
    for name, value in response_attributes.items():
        setattr(response, name, value)
    middleware = middleware_class(lambda request: response)
    middleware.process_request(request)
    if use_nonce:
        str(request.csp_nonce)
    response = middleware.process_response(request, response)
    nonce = getattr(request, "_csp_nonce", None)
    headers = {name: response.get(name) for name in HEADERS}
    if nonce:
        headers = {name: value and value.replace(nonce, "NONCE") for name, value in headers.items()}
    try:
        str(request.csp_nonce)
        headers["nonce refused"] = "no"
    except CSPNonceError:
        headers["nonce refused"] = "yes"
    return headers


CASES = [
    {},
    {"path": "/admin/pages/"},
    {"use_nonce": True},
    {"status": 404},
    {"_csp_exempt": True},
    {"_csp_update": {"img-src": ["https://images.example"]}},
    {"_csp_replace": {"script-src": None}},
    {"_csp_config": {"default-src": [SELF]}},
    {"_csp_update_ro": {"img-src": ["https://images.example"]}},
    {"path": "/elsewhere/"},
    {"preset": "default-src 'none'"},
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"DEBUG": True},
        {"CONTENT_SECURITY_POLICY_REPORT_ONLY": {"DIRECTIVES": {"default-src": [SELF], "script-src": [SELF, NONCE]}}},
        {"CONTENT_SECURITY_POLICY": {"EXCLUDE_URL_PREFIXES": ["/elsewhere/"], "DIRECTIVES": {"default-src": [SELF]}}},
    ],
)
def test_every_answer_gets_django_csps_headers(case, overrides):
    with override_settings(**overrides):
        ours = answer(ContentSecurityPolicyMiddleware, **case)
        theirs = answer(DjangoCsp, **case)
    assert ours == theirs


def test_a_changed_setting_shows_at_once():
    first = answer(ContentSecurityPolicyMiddleware)["Content-Security-Policy"]
    assert first and "default-src 'self'" in first
    with override_settings(CONTENT_SECURITY_POLICY={"DIRECTIVES": {"default-src": ["https://only.example"]}}):
        assert answer(ContentSecurityPolicyMiddleware)["Content-Security-Policy"] == "default-src https://only.example"
    assert answer(ContentSecurityPolicyMiddleware)["Content-Security-Policy"] == first


def test_django_csps_process_response_is_still_the_one_copied():
    """Fails on the django-csp upgrade that changes its process_response: read it again, then
    update ContentSecurityPolicyMiddleware.process_response."""
    source = inspect.getsource(CSPMiddleware.process_response)
    for line in (
        "policy_parts = self.get_policy_parts(request=request, response=response)",
        "csp = build_policy(**asdict(policy_parts))",
        'is_not_exempt = getattr(response, "_csp_exempt", False) is False',
        'policy = getattr(settings, "CONTENT_SECURITY_POLICY", None) or {}',
        'prefixes = policy.get("EXCLUDE_URL_PREFIXES", None) or ()',
        "csp_ro = build_policy(**asdict(policy_parts_ro), report_only=True)",
        'is_not_exempt = getattr(response, "_csp_exempt_ro", False) is False',
        'if getattr(request, "_csp_nonce", None) is None:',
    ):
        assert line in source, line
    assert source.count("response[") == 2
