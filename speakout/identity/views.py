"""The account page, the "Change" (switch identity) page, and the admin login hand-over."""

from __future__ import annotations

from urllib.parse import urlencode

from allauth.account.utils import get_next_redirect_url
from allauth.account.views import SignupView
from allauth.decorators import rate_limit
from allauth.socialaccount import views as social_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.decorators import method_decorator

from .app_settings import app_settings
from .forms import PseudonymSignupForm
from .providers import configured_providers


def safe_next(request, default: str = "/") -> str:
    """The request's ``next`` if it stays on this site (allauth's check), else ``default``."""
    return get_next_redirect_url(request) or default


@login_required
def account(request):
    links = []
    for label, url_name in app_settings.ACCOUNT_LINKS:
        try:
            links.append((label, reverse(url_name)))
        except NoReverseMatch:
            links.append((label, url_name))
    return render(request, "identity/account.html", {"extra_links": links})


def switch(request):
    """Pick another identity for commenting: a guest, a site account, or a provider. Every
    choice posts (logging out or in changes state), and each comes back to ``next``."""
    next_url = safe_next(request)
    login_url = f"{reverse('account_login')}?{urlencode({'next': next_url})}"
    return render(
        request,
        "identity/switch.html",
        {"next_url": next_url, "login_url": login_url, "providers": configured_providers(request)},
    )


class PseudonymSignupView(SignupView):
    """ "Reply under a pseudonym": allauth's sign-up view (rate limits, enumeration prevention,
    verification mail through the outbox) with a pseudonym and an email address. Following the
    mailed link in the same browser signs the reader in and brings them back to ``next``."""

    form_class = PseudonymSignupForm
    template_name = "identity/pseudonym_signup.html"

    def dispatch(self, request, *args, **kwargs):
        if not app_settings.PSEUDONYMS:
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_form_class(self):
        return self.form_class  # not ACCOUNT_FORMS["signup"]: that one asks for a password

    def is_open(self) -> bool:
        return True  # open even when site-account sign-up is closed (SPEAKOUT_PSEUDONYMS decides)


@method_decorator(rate_limit(action="signup"), name="dispatch")
class ProviderSignupView(social_views.SignupView):
    """Allauth's sign-up through a login provider, which asks for the public name. A taken name
    is refused, so each try spends the sign-up limit, as on the site's own form: names cannot
    be listed by guessing."""


def admin_login(request):
    """Wagtail's own login screen would skip allauth's rate limits and MFA: send it there."""
    query = {"next": safe_next(request, reverse("wagtailadmin_home"))}
    return HttpResponseRedirect(f"{reverse('account_login')}?{urlencode(query)}")


def admin_password_reset(request):
    return HttpResponseRedirect(reverse("account_reset_password"))
