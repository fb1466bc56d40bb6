"""Staff must set up a second factor before the Wagtail admin serves them (when required)."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from .app_settings import app_settings


def can_reach_admin(user) -> bool:
    return user.has_perm("wagtailadmin.access_admin")  # False for inactive users, True for active superusers


def has_second_factor(user) -> bool:
    from allauth.mfa.models import Authenticator

    # Recovery codes alone are not a factor one can log in with day to day.
    return Authenticator.objects.filter(user=user).exclude(type=Authenticator.Type.RECOVERY_CODES).exists()


class StaffMFAMiddleware:
    """With ``SPEAKOUT_STAFF_REQUIRE_MFA``, a signed-in user who can reach the admin and has no
    TOTP or passkey yet is sent to allauth's two-factor page from every admin URL; the admin
    serves them once one is set up. The public site is never blocked."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            app_settings.STAFF_REQUIRE_MFA
            and request.path_info.startswith(app_settings.ADMIN_PREFIX)
            and request.user.is_authenticated
            and can_reach_admin(request.user)
            and not has_second_factor(request.user)
        ):
            messages.warning(
                request, _("Set up two-factor authentication (an authenticator app or a passkey) to use the admin.")
            )
            return HttpResponseRedirect(f"{reverse('mfa_index')}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)


class ProviderRedirectMiddleware:
    """Hands the browser over to a login provider without loosening the site's CSP.

    The provider icons are forms that post (starting a login changes state), and allauth
    answers with a redirect to the provider. Browsers apply the page's ``form-action 'self'``
    to that redirect too and stop it. So a redirect off the site after a POST under /accounts/
    becomes a small page that moves on with a meta refresh (plus a link), which the policy allows.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.method != "POST" or response.status_code not in (301, 302, 303, 307):
            return response
        if not request.path_info.startswith("/accounts/"):
            return response
        location = response.get("Location", "")
        target = urlsplit(location)
        if not target.netloc or target.netloc == request.get_host() or target.scheme not in ("http", "https"):
            return response
        handover = render(request, "identity/provider_redirect.html", {"location": location})
        for cookie in response.cookies.values():
            handover.cookies[cookie.key] = cookie
        return handover
