"""The account page, the "Change" (switch identity) page, and the admin login hand-over."""

from __future__ import annotations

from urllib.parse import urlencode

from allauth.account.utils import get_next_redirect_url
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from .app_settings import app_settings
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


def admin_login(request):
    """Wagtail's own login screen would skip allauth's rate limits and MFA: send it there."""
    query = {"next": safe_next(request, reverse("wagtailadmin_home"))}
    return HttpResponseRedirect(f"{reverse('account_login')}?{urlencode(query)}")


def admin_password_reset(request):
    return HttpResponseRedirect(reverse("account_reset_password"))
