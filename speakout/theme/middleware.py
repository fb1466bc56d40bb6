from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation

from .languages import default_language, readers_choice


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


class SiteLanguageMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware, except that a reader who names none of the site's languages
    gets the default chosen in the admin (Settings → Languages) rather than SPEAKOUT_LANGUAGE."""

    def process_request(self, request):
        super().process_request(request)
        if request.LANGUAGE_CODE == settings.LANGUAGE_CODE and readers_choice(request) is None:
            language = default_language(read_database=False)
            if language != request.LANGUAGE_CODE:
                translation.activate(language)
                request.LANGUAGE_CODE = translation.get_language()
