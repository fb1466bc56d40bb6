"""A signed-in reader's subscriptions, on their account: what they follow, how often, and a way
to stop any or all of it. Only addresses the reader has proved (``verified_addresses``) count,
so the page never shows or changes another person's subscriptions."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from . import lists, services
from .models import Subscription

Frequency = Subscription.Frequency


def _own(request, addresses):
    try:
        subscription_id = int(request.POST.get("subscription", ""))
    except ValueError:
        return None
    return Subscription.objects.filter(pk=subscription_id, email__in=addresses, unsubscribed_at__isnull=True).first()


@login_required
@require_http_methods(["GET", "POST"])
def my_subscriptions(request):
    addresses = services.verified_addresses(request.user)
    if request.method == "POST" and addresses:
        action = request.POST.get("action", "")
        if action == "follow_posts":
            frequency = request.POST.get("frequency", Frequency.INSTANT)
            address = request.POST.get("email", addresses[0])
            category = request.POST.get("category", "")
            if (
                frequency not in Frequency.values
                or address not in addresses
                or (category and category not in dict(lists.categories()))
            ):
                messages.error(request, _("Choose how often and which address."))
            else:
                services.subscribe_verified(address, kind=services.Kind.POSTS, category=category, frequency=frequency)
                messages.success(request, _("You will hear about new posts."))
        elif action == "frequency":
            subscription, frequency = _own(request, addresses), request.POST.get("frequency", "")
            if subscription is None or subscription.kind != services.Kind.POSTS or frequency not in Frequency.values:
                messages.error(request, _("That subscription could not be changed."))
            else:
                services.change_frequency(subscription, frequency)
                messages.success(request, _("Saved."))
        elif action == "stop":
            subscription = _own(request, addresses)
            if subscription is None:
                messages.error(request, _("That subscription could not be changed."))
            else:
                services.unsubscribe(subscription)
                messages.success(request, _("Stopped. You will get no more mail about it."))
        elif action == "stop_all":
            stopped = services.unsubscribe_all(addresses)
            messages.success(request, _("All notifications stopped (%(count)d).") % {"count": stopped})
        else:
            messages.error(request, _("Unknown action."))
        return redirect("subscriptions:mine")
    subscriptions = services.subscriptions_of(addresses)
    return render(
        request,
        "subscriptions/mine.html",
        {
            "addresses": addresses,
            "subscriptions": subscriptions,
            "follows_posts": any(s.kind == services.Kind.POSTS and not s.category for s in subscriptions),
            "categories": lists.categories(),
            "frequencies": Frequency.choices,
        },
    )
