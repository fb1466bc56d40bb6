"""Pages of the subscriptions: the follow form's answer, confirmation and unsubscription.

A GET never changes anything: the links in mails open a page with a button, and the button's
POST acts. The unsubscribe POST needs no session and no CSRF token (the signed link authorises
it), so mail clients can send RFC 8058's one-click POST.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from speakout.discussion import app_settings as discussion_settings
from speakout.discussion.clients import client_hash
from speakout.discussion.forms import issue_form_token, read_form_token, thread_key_from
from speakout.discussion.models import Thread
from speakout.net import ratelimit

from . import services, tokens
from .app_settings import app_settings
from .forms import FollowForm, PostsForm


def _handle(request, form, *, key: str, template: str, context: dict, ask):
    """What both forms do with a POST: check the form, its honeypot, token and the client's
    limit, then ``ask(cleaned_data)``; a form shown again keeps what was typed."""

    def again(status):
        data = form.data.copy()
        data["form_token"] = issue_form_token(key, after_error=True)
        form.data = data
        return render(request, template, {**context, "form": form}, status=status)

    if not form.is_valid():
        return again(400)
    done = render(request, "subscriptions/requested.html", context)
    if form.cleaned_data["homepage"]:
        return done  # a robot: it learns nothing, and nothing is sent
    age = read_form_token(form.cleaned_data["form_token"], key)
    if age is None or age > discussion_settings.FORM_MAX_AGE:
        form.add_error(None, _("This form has expired. Please send it again."))
        return again(400)
    # No minimum time here: an autofilled form goes in a second, and the confirmation mail, the
    # honeypot and the rate limit already stop robots.
    if not ratelimit.allow(f"speakout:subscriptions:follow:{client_hash(request)}", *app_settings.FOLLOW_LIMIT):
        form.add_error(None, _("Too many requests from your connection. Please try again later."))
        return again(429)
    try:
        ask(form.cleaned_data)
    except ValueError:
        form.add_error("email", _("Enter a valid email address."))
        return again(400)
    # The same page whether the address was new, pending or already subscribed.
    return done


@require_POST
def follow(request):
    thread = get_object_or_404(Thread, key=thread_key_from(request.POST.get("thread")), is_public=True)

    def ask(cleaned):
        if cleaned["notify_replies"]:
            services.request_subscription(cleaned["email"], kind=services.Kind.THREAD, thread=thread)
        if cleaned["notify_posts"]:
            services.request_subscription(
                cleaned["email"], kind=services.Kind.POSTS, frequency=cleaned["frequency"] or "instant"
            )

    return _handle(
        request,
        FollowForm(request.POST),
        key=thread.key,
        template="subscriptions/follow.html",
        context={"thread": thread},
        ask=ask,
    )


POSTS_FORM_KEY = "subscriptions:posts"


@require_http_methods(["GET", "POST"])
def posts(request):
    """ "New reports by email": the whole site or chosen categories, at once or in a digest.
    Each list is its own subscription; one mail confirms all the lists asked for together."""
    if request.method == "GET":
        form = PostsForm(initial={"form_token": issue_form_token(POSTS_FORM_KEY)})
        return render(request, "subscriptions/posts.html", {"form": form})
    form = PostsForm(request.POST)

    def ask(cleaned):
        services.request_posts_lists(cleaned["email"], categories=form.categories(), frequency=cleaned["frequency"])

    return _handle(request, form, key=POSTS_FORM_KEY, template="subscriptions/posts.html", context={}, ask=ask)


def _invalid(request):
    return render(request, "subscriptions/invalid_link.html", status=400)


@require_http_methods(["GET", "POST"])
def confirm(request, token):
    subscription = tokens.read_token(token, tokens.CONFIRM)
    if subscription is None or subscription.unsubscribed_at is not None:
        return _invalid(request)
    together = [row for row in tokens.read_together(token, subscription) if row.unsubscribed_at is None]
    if request.method == "POST":
        if not services.confirm(subscription):
            return _invalid(request)
        for row in together:
            services.confirm(row)
        return render(request, "subscriptions/confirmed.html", {"subscription": subscription})
    return render(
        request, "subscriptions/confirm.html", {"subscription": subscription, "token": token, "together": together}
    )


@csrf_exempt  # the signed token authorises the POST; RFC 8058 one-click sends no session
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    subscription = tokens.read_token(token, tokens.UNSUBSCRIBE)
    if subscription is None:
        return _invalid(request)
    if request.method == "POST":
        services.unsubscribe(subscription)
        return render(request, "subscriptions/unsubscribed.html", {"subscription": subscription})
    return render(request, "subscriptions/unsubscribe.html", {"subscription": subscription, "token": token})


@csrf_exempt  # as ``unsubscribe``: the signed token authorises the POST
@require_http_methods(["GET", "POST"])
def unsubscribe_all(request, token):
    """Stop every subscription of the address the link was mailed to."""
    email = tokens.read_address_token(token)
    if email is None:
        return _invalid(request)
    if request.method == "POST":
        services.unsubscribe_all([email])
        return render(request, "subscriptions/unsubscribed.html")
    return render(request, "subscriptions/unsubscribe_all.html")
