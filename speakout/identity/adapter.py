"""Allauth adapters: where Speakout's policy meets allauth's flows.

Override ``AccountAdapter`` (``ACCOUNT_ADAPTER``) to change how account mail is sent or who may
sign up; ``SocialAccountAdapter`` (``SOCIALACCOUNT_ADAPTER``) for social sign-up policy.
"""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.contrib.sites.shortcuts import get_current_site
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import get_language, gettext_lazy

from speakout.net.addresses import client_ip
from speakout.outbox.compose import from_text
from speakout.outbox.sender import organisation_name
from speakout.outbox.services import queue_mail

from .app_settings import app_settings


class AccountAdapter(DefaultAccountAdapter):
    """Account mail goes through the outbox, so a mail server outage loses no verification or
    password reset message; the worker sends it with retries."""

    # A taken username is refused without saying that someone has it; each attempt spends the
    # sign-up rate limit (ACCOUNT_RATE_LIMITS), so usernames cannot be listed by guessing.
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "username_taken": gettext_lazy("This username cannot be used. Please choose another."),
    }

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        request = allauth_context.request
        ctx = {
            "email": email,
            "current_site": get_current_site(request) if request is not None else None,
            # Mail names the organisation as its admin calls it, never the server's host name.
            "site_name": organisation_name(),
            "BASE_URL": settings.BASE_URL,
        }
        if request is not None:
            ctx["request"] = request
        ctx.update(context)
        message = self.render_mail(template_prefix, email, ctx)
        language = get_language() or ""
        html = next((body for body, kind in getattr(message, "alternatives", []) if kind == "text/html"), None)
        if message.content_subtype == "html":  # a project template gave HTML only
            html, text = message.body, ""
        elif html is None:
            # Account mails are written as plain text; the layout shared by every mail wraps them.
            text, html = from_text(message.body, language=language)
        else:
            text = message.body
        with transaction.atomic():
            for address in message.to:
                queue_mail(address, message.subject, text, html, language=language)

    def format_email_subject(self, subject: str) -> str:
        return f"{organisation_name()}: {subject}"

    def is_open_for_signup(self, request) -> bool:
        return app_settings.ACCOUNT_SIGNUP_OPEN

    def get_client_ip(self, request) -> str:
        """The address allauth's rate limits count, read like every other limit's: from
        ``X-Forwarded-For`` only through ``SPEAKOUT_TRUSTED_PROXIES`` (allauth's own
        ``ALLAUTH_TRUSTED_PROXY_COUNT`` is not used)."""
        address = client_ip(request)
        if not address:
            raise PermissionDenied("Unable to determine client IP address")
        return address


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Signing in with a configured provider stays open even when site-account sign-up is off:
    the operator chose to trust that provider by adding it."""

    def is_open_for_signup(self, request, sociallogin) -> bool:
        return True

    def populate_user(self, request, sociallogin, data):
        """Only the address is taken from what the provider sent. Its names (often a legal name)
        are not kept, since a reply shows an account's full name before its username; the person
        chooses the username, their public name, on the sign-up form
        (``SOCIALACCOUNT_AUTO_SIGNUP = False``)."""
        return super().populate_user(request, sociallogin, {"email": data.get("email")})

    def get_provider(self, request, provider, client_id=None):
        """A provider this site has not configured answers 404, as allauth's own OpenID Connect
        views do, instead of a server error on its login and callback addresses."""
        from allauth.socialaccount.models import SocialApp
        from django.http import Http404

        try:
            return super().get_provider(request, provider, client_id=client_id)
        except SocialApp.DoesNotExist:
            raise Http404 from None
