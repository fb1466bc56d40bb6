import functools

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware, PolicyParts
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.http import JsonResponse
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.defaults import bad_request

from .languages import content_language_of, default_language, readers_choice


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """The strict site policy everywhere, and a looser one for the Wagtail admin.

    The public pages run no inline script at all. Wagtail's editor still relies on inline
    styles and a few inline scripts, so its screens (and page previews, which live under the
    admin's path) get ``SPEAKOUT_ADMIN_CSP_DIRECTIVES`` instead. It still allows no other origin.
    """

    admin_prefix = "/admin/"

    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only=report_only)
        if not report_only and request.path_info.startswith(self.admin_prefix):
            return PolicyParts(config=settings.SPEAKOUT_ADMIN_CSP_DIRECTIVES, nonce=parts.nonce)
        return parts

    def process_response(self, request, response):
        """django-csp's, with the settings' policies built once, not for every answer: most
        answers carry them as they are (no nonce, no decorator's change, not the admin's).
        tests/theme/test_csp.py compares every header with django-csp's own."""
        plain = PolicyParts()
        if (
            self.get_policy_parts(request, response) != plain
            or self.get_policy_parts(request, response, report_only=True) != plain
            or (response.status_code in (500, 404) and settings.DEBUG)
        ):
            return super().process_response(request, response)
        for header, report_only, exempt in (
            (HEADER, False, "_csp_exempt"),
            (HEADER_REPORT_ONLY, True, "_csp_exempt_ro"),
        ):
            policy = settings_policy(report_only)
            if policy and getattr(response, exempt, False) is False and header not in response:
                prefixes = (policy_setting(report_only) or {}).get("EXCLUDE_URL_PREFIXES", None) or ()
                if not request.path_info.startswith(tuple(prefixes)):
                    response[header] = policy
        if getattr(request, "_csp_nonce", None) is None:
            request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response


def policy_setting(report_only: bool) -> dict | None:
    name = "CONTENT_SECURITY_POLICY_REPORT_ONLY" if report_only else "CONTENT_SECURITY_POLICY"
    return getattr(settings, name, None)


@functools.cache
def settings_policy(report_only: bool) -> str:
    """The policy header the settings make (django-csp's ``build_policy()``), built once per
    process and again when the setting changes (``setting_changed``: tests)."""
    return build_policy(report_only=report_only)


def _forget_policies(*, setting: str, **kwargs) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        settings_policy.cache_clear()


setting_changed.connect(_forget_policies)


class RefuseNulMiddleware:
    """400 for a NUL in the path or the query string. No address or query of this site needs
    one, and PostgreSQL cannot compare text holding one (a thread key, a search), so it would
    end as a server error deep in some view. Form and JSON bodies are left to their forms,
    which name the field and keep the typed text."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        fields = [
            name for name, values in request.GET.lists() if "\0" in name or any("\0" in value for value in values)
        ]
        if "\0" in request.path_info or fields:
            if request.path_info.startswith(self.json_prefixes()):
                # The APIs' error object, naming the parameter as their own validation does.
                message = _("The address contains a NUL character, which no address of this site uses.")
                errors = {name.replace("\0", ""): [message] for name in fields} or {"__all__": [message]}
                return JsonResponse({"outcome": "rejected", "code": "invalid", "errors": errors}, status=400)
            return bad_request(request, exception=None)
        return self.get_response(request)

    @staticmethod
    def json_prefixes() -> tuple[str, ...]:
        """The JSON APIs' paths, which answer with their error object (docs/embed.md)."""
        return tuple(getattr(settings, "SPEAKOUT_THEME_JSON_PREFIXES", ()))


class SiteLanguageMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware, except that a reader who names none of the site's languages
    gets the default chosen in the admin (Settings → Languages) rather than SPEAKOUT_LANGUAGE."""

    def process_request(self, request):
        super().process_request(request)
        # A page in another language than the default one has its language in its address
        # (/fr/...): that page reads in it, interface included, whatever the reader chose.
        prefixed = content_language_of(request.path_info)
        if prefixed is not None:
            translation.activate(prefixed)
            request.LANGUAGE_CODE = prefixed
        elif request.LANGUAGE_CODE == settings.LANGUAGE_CODE and readers_choice(request) is None:
            language = default_language(read_database=False)
            if language != request.LANGUAGE_CODE:
                translation.activate(language)
                request.LANGUAGE_CODE = translation.get_language()
