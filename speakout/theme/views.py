from __future__ import annotations

from django.views.i18n import set_language as django_set_language

from .languages import supported


def set_language(request):
    """The footer's language switcher: Django's view (the cookie, a safe ``next``), and for a
    signed-in reader the choice is kept with the account too, so the mail they get is in it."""
    response = django_set_language(request)
    language = supported(request.POST.get("language"))
    if request.method == "POST" and language and request.user.is_authenticated:
        from wagtail.users.models import UserProfile

        profile = UserProfile.get_for_user(request.user)
        if profile.preferred_language != language:
            profile.preferred_language = language
            profile.save(update_fields=["preferred_language"])
    return response
