from allauth.account import views as account_views
from django.conf import settings
from django.urls import URLResolver, include, path, re_path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

import speakout.discussion.api
from speakout.identity import views as identity_views
from speakout.publishing import routing
from speakout.publishing import views as publishing_views
from speakout.publishing.languages import ContentLanguagePrefix
from speakout.theme import views as theme_views

urlpatterns = [
    # One way in for everyone: the admin's login and password reset hand over to allauth's.
    path("admin/login/", identity_views.admin_login),
    path("admin/password_reset/", identity_views.admin_password_reset),
    # Wagtail's logout view drops the session cookie on any method, so a link from another site
    # would sign staff out; allauth's signs out on POST only (the admin's button posts).
    path("admin/logout/", account_views.logout),
    path("admin/", include(wagtailadmin_urls)),
    path("accounts/", include("speakout.identity.urls")),
    path("accounts/", include("allauth.urls")),
    path("documents/", include(wagtaildocs_urls)),
    path("i18n/setlang/", theme_views.set_language, name="set_language"),
    path("discussion/", include("speakout.discussion.urls")),
    path("api/", speakout.discussion.api.api.urls),
    path("subscriptions/", include("speakout.subscriptions.urls")),
    path("privacy/", include("speakout.privacy.urls")),
    path("pagecache/", include("speakout.pagecache.urls")),
    path("", include("speakout.federation.urls")),
    path("", include("speakout.embed.urls")),
    path("", include("speakout.publishing.urls")),
    # Uploaded images (documents go through Wagtail's view: theme/views.py). In production a
    # front server or CDN may serve them instead, but the embedded default serves them itself so
    # a fresh install shows its pictures.
    path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", theme_views.serve_media),
    # Wagtail's URLs (its password and login helpers), with its page view replaced by the same
    # view with remembered routes (publishing/routing.py), under the same name and pattern.
    # Its password form, with attempts limited (publishing/views.py).
    path(
        "_util/authenticate_with_password/<int:page_view_restriction_id>/<int:page_id>/",
        publishing_views.authenticate_with_password,
        name="wagtailcore_authenticate_with_password",
    ),
    *[
        pattern
        for pattern in wagtail_urls.urlpatterns
        if getattr(pattern, "name", "") not in ("wagtail_serve", "wagtailcore_authenticate_with_password")
    ],
    # Pages in the default language at their address, the others under their language's prefix.
    URLResolver(ContentLanguagePrefix(), [re_path(wagtail_urls.serve_pattern, routing.serve, name="wagtail_serve")]),
]

# A database that cannot be used answers 503 with the typed text, not a 500 (docs/reliability.md).
handler500 = "speakout.theme.errors.server_error"
