from django.conf import settings
from django.urls import include, path
from django.views.static import serve
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

import speakout.discussion.api
from speakout.identity import views as identity_views

urlpatterns = [
    # One way in for everyone: the admin's login and password reset hand over to allauth's.
    path("admin/login/", identity_views.admin_login),
    path("admin/password_reset/", identity_views.admin_password_reset),
    path("admin/", include(wagtailadmin_urls)),
    path("accounts/", include("speakout.identity.urls")),
    path("accounts/", include("allauth.urls")),
    path("documents/", include(wagtaildocs_urls)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("discussion/", include("speakout.discussion.urls")),
    path("api/", speakout.discussion.api.api.urls),
    path("subscriptions/", include("speakout.subscriptions.urls")),
    path("privacy/", include("speakout.privacy.urls")),
    path("", include("speakout.embed.urls")),
    path("", include("speakout.publishing.urls")),
    # Uploaded images. In production a front server or CDN may serve MEDIA_ROOT instead, but
    # the embedded default serves them itself so a fresh install shows its pictures.
    path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", serve, {"document_root": settings.MEDIA_ROOT}),
    path("", include(wagtail_urls)),
]
