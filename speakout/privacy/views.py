"""Pages of the privacy app: the privacy page, "manage my replies" (by signed link or account),
and deleting an account.

A GET never changes anything: every action is a POST with a CSRF token. Guests reach their page
through a signed, expiring link mailed to them; account holders through their account.
"""

from __future__ import annotations

import hashlib
import json
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from speakout.discussion import app_settings as discussion_settings
from speakout.discussion.clients import GUEST_COOKIE_MAX_AGE, client_hash
from speakout.discussion.models import DiscussionSettings, Reply
from speakout.net import ratelimit
from speakout.net.messages import cookie_name as messages_cookie_name
from speakout.outbox.app_settings import app_settings as outbox_settings
from speakout.subscriptions.app_settings import app_settings as subscription_settings

from . import services, tokens
from .app_settings import app_settings
from .forms import DeleteAccountForm, EditForm, EmailForm, ForgetForm

DAY = 24 * 3600


# The privacy page ----------------------------------------------------------------------------


def retention_facts() -> dict:
    """The numbers the privacy page states, read from the running settings."""
    return {
        "client_hash_days": discussion_settings.CLIENT_HASH_DAYS,
        "client_key_days": discussion_settings.CLIENT_KEY_DAYS,
        "held_reply_days": app_settings.HELD_REPLY_DAYS,
        "sent_mail_days": app_settings.SENT_MAIL_DAYS,
        "mail_retry_hours": outbox_settings.RETRY_FOR_SECONDS // 3600,
        "forget_after_days": app_settings.FORGET_AFTER_DAYS,
        "unsubscribed_days": app_settings.UNSUBSCRIBED_DAYS,
        "confirm_days": subscription_settings.CONFIRM_MAX_AGE // DAY,
        "link_hours": app_settings.LINK_MAX_AGE // 3600,
        "edit_minutes": DiscussionSettings.load().edit_window_minutes,
        "guest_cookie": discussion_settings.GUEST_COOKIE_NAME,
        "guest_cookie_days": GUEST_COOKIE_MAX_AGE // DAY,
        "session_cookie": settings.SESSION_COOKIE_NAME,
        "session_days": settings.SESSION_COOKIE_AGE // DAY,
        "csrf_cookie": settings.CSRF_COOKIE_NAME,
        "csrf_days": settings.CSRF_COOKIE_AGE // DAY,
        "messages_cookie": messages_cookie_name(),
        "language_cookie": settings.LANGUAGE_COOKIE_NAME,
        "language_days": (settings.LANGUAGE_COOKIE_AGE or 0) // DAY,
        **_federation_facts(),
    }


def _federation_facts() -> dict:
    """The Fediverse's part, where the federation app is installed: said while federation is on,
    or while replies that came from it are kept."""
    from django.apps import apps

    if not apps.is_installed("speakout.federation"):
        return {"federation": False}
    from speakout.federation.app_settings import app_settings as federation_settings
    from speakout.federation.models import FederatedReply, FederationSettings

    config = FederationSettings.load()
    return {
        "federation": config.enabled or FederatedReply.objects.filter(outgoing=False).exists(),
        "members_federate": config.enabled and config.federate_member_replies,
        "tombstone_days": federation_settings.TOMBSTONE_RETENTION_DAYS,
        "federation_log_days": federation_settings.LOG_RETENTION_DAYS,
        # An unneeded account goes once its key is stale, at the next hourly prune.
        "actor_hours": federation_settings.KEY_CACHE_SECONDS // 3600 + 1,
    }


def privacy_page(request):
    return render(request, "privacy/privacy.html", {"facts": retention_facts()})


# Asking for the link -------------------------------------------------------------------------


def _over_limit(request, email: str) -> bool:
    """Count this request against the client's and the address's limits (the address hashed:
    no address is written to the cache)."""
    count, window = app_settings.REQUEST_LIMIT
    keys = [f"client:{client_hash(request)}", "email:" + hashlib.sha256(email.encode()).hexdigest()]
    # Every key is counted, even past the first that is over: each limit sees every request.
    allowed = [ratelimit.allow(f"speakout:privacy:request:{key}", count, window) for key in keys]
    return not all(allowed)


@require_http_methods(["GET", "POST"])
def request_link(request):
    form = EmailForm(request.POST if request.method == "POST" else None)
    context = {"form": form, "hours": app_settings.LINK_MAX_AGE // 3600}
    if request.method == "POST":
        if not form.is_valid():
            return render(request, "privacy/request.html", context, status=400)
        email = services.normalise(form.cleaned_data["email"])
        if _over_limit(request, email):
            form.add_error(None, _("Too many requests. Please try again in an hour."))
            return render(request, "privacy/request.html", context, status=429)
        # The same work and the same page whether or not we know the address: the task decides.
        services.request_manage_link(email)
        return render(request, "privacy/requested.html", context)
    return render(request, "privacy/request.html", context)


# Managing ------------------------------------------------------------------------------------


class Denied(Exception):
    def __init__(self, response):
        self.response = response


def _resolve(request, token: str | None) -> tuple[services.Owner, str, str]:
    """The owner, the URL name prefix ("manage" or "account") and the URL arguments' token."""
    if token is not None:
        manage_request = tokens.read_token(token)
        if manage_request is None:
            raise Denied(render(request, "privacy/invalid_link.html", status=400))
        return services.Owner.for_email(manage_request.email), "manage", token
    if not request.user.is_authenticated:
        raise Denied(redirect_to_login(request.get_full_path()))
    return services.Owner.for_user(request.user), "account", ""


def _url(prefix: str, token: str, name: str = "", *args) -> str:
    view = f"privacy:{prefix}_{name}" if name else f"privacy:{prefix}"
    return reverse(view, args=[token, *args] if token else list(args))


def _private(response):
    """Personal pages: never cached, and the link's token never sent on as a referrer."""
    response["Referrer-Policy"] = "no-referrer"
    return response


def _back(prefix: str, token: str):
    return HttpResponseRedirect(_url(prefix, token), status=303)


def owner_view(handler):
    """Resolve who is asking (link or account) and hand the handler the owner and URL helpers."""

    @wraps(handler)
    def view(request, token: str | None = None, **kwargs):
        try:
            owner, prefix, token = _resolve(request, token)
        except Denied as denied:
            return _private(denied.response)
        return _private(handler(request, owner, prefix, token, **kwargs))

    return never_cache(view)


@owner_view
@require_http_methods(["GET"])
def manage(request, owner, prefix, token):
    replies = list(owner.replies().order_by("-created_at", "-pk"))
    for reply in replies:
        reply.can_edit = services.can_edit(reply)
        reply.urls = {name: _url(prefix, token, name, reply.pk) for name in ("edit", "delete", "anonymise")}
    active_subscriptions = [s for s in owner.subscriptions() if s.unsubscribed_at is None]
    context = {
        "owner": owner,
        "replies": replies,
        "subscriptions": active_subscriptions,
        "by_account": prefix == "account",
        "urls": {name: _url(prefix, token, name) for name in ("export", "stop_notifications", "forget")},
        "forget_form": ForgetForm(),
        "forget_after_days": app_settings.FORGET_AFTER_DAYS,
        "edit_minutes": DiscussionSettings.load().edit_window_minutes,
    }
    return render(request, "privacy/manage.html", context)


@owner_view
@require_http_methods(["GET"])
def export(request, owner, prefix, token):
    """Everything we hold about the owner, as a JSON download (reading only)."""
    body = json.dumps(services.export(owner), ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="my-replies.json"'
    return response


def _owned_reply(owner, reply_id: int) -> Reply:
    return get_object_or_404(owner.replies(), pk=reply_id)


@owner_view
@require_http_methods(["GET", "POST"])
def edit(request, owner, prefix, token, reply_id: int):
    reply = _owned_reply(owner, reply_id)
    context = {"reply": reply, "back_url": _url(prefix, token)}
    if not services.can_edit(reply):
        return render(request, "privacy/cannot_edit.html", context, status=403)
    if request.method == "POST":
        result = services.edit(owner, reply, request.POST.get("body", ""))
        if result.ok:
            messages.success(request, _("Your reply was changed."))
            return _back(prefix, token)
        form = EditForm(request.POST)
        form.is_valid()
        for message in result.errors.get("__all__", []):
            form.add_error(None, message)
        return render(request, "privacy/edit.html", {**context, "form": form}, status=400)
    return render(request, "privacy/edit.html", {**context, "form": EditForm(initial={"body": reply.body})})


@owner_view
@require_POST
def delete(request, owner, prefix, token, reply_id: int):
    services.delete(owner, _owned_reply(owner, reply_id))
    messages.success(request, _("Your reply was deleted."))
    return _back(prefix, token)


@owner_view
@require_POST
def anonymise(request, owner, prefix, token, reply_id: int):
    services.anonymise(owner, _owned_reply(owner, reply_id))
    messages.success(request, _("Your reply was anonymised: it no longer shows your name or links to you."))
    return _back(prefix, token)


@owner_view
@require_POST
def stop_notifications(request, owner, prefix, token):
    count = services.stop_notifications(owner)
    messages.success(
        request,
        ngettext(
            "No more notifications will be sent (%(count)d stopped).",
            "No more notifications will be sent (%(count)d stopped).",
            count,
        )
        % {"count": count},
    )
    return _back(prefix, token)


@owner_view
@require_POST
def forget(request, owner, prefix, token):
    form = ForgetForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Tick the box to confirm."))
        return _back(prefix, token)
    services.forget(owner)
    return render(request, "privacy/forgotten.html", {"forget_after_days": app_settings.FORGET_AFTER_DAYS})


@never_cache
@require_http_methods(["GET", "POST"])
def delete_account(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    user = request.user
    if user.is_staff or user.is_superuser:
        return render(request, "privacy/delete_account.html", {"staff": True}, status=403)
    form = DeleteAccountForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if not form.is_valid():
            return render(request, "privacy/delete_account.html", {"form": form}, status=400)
        services.delete_account(user, delete_replies=form.cleaned_data["replies"] == "delete")
        logout(request)
        return render(request, "privacy/account_deleted.html")
    return render(request, "privacy/delete_account.html", {"form": form})
