"""Helpers of the mail tests: the organisation's site, where a mail's HTML points, and RFC 8058's
one-click unsubscribe."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

from django.test import Client
from wagtail.models import Site

ORIGIN = "https://news.org.example"
NAME = "Housing Action Kraków"


def organisation_site(settings, *, from_email: str, own_host: bool = False) -> None:
    """The site as the organisation ``NAME`` at ``ORIGIN``, mail from ``from_email`` sent at once;
    ``own_host``: the default Wagtail site is served at that host too."""
    settings.BASE_URL = ORIGIN
    settings.WAGTAILADMIN_BASE_URL = ORIGIN
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "news.org.example"]
    settings.DEFAULT_FROM_EMAIL = from_email
    settings.SPEAKOUT_EMAIL_RATE_PER_MINUTE = 0
    wagtail_site = Site.objects.get(is_default_site=True)
    wagtail_site.site_name = NAME
    if own_host:
        wagtail_site.hostname, wagtail_site.port = "news.org.example", 443
    wagtail_site.save()
    Site.clear_site_root_paths_cache()


class Links(HTMLParser):
    """Every URL an HTML part points to or loads, by the attribute that holds it."""

    def __init__(self):
        super().__init__()
        self.found: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src", "srcset", "background", "poster", "data", "action") and value:
                self.found.append((tag, name, value))
            if name == "style" and value and "url(" in value:
                self.found.append((tag, name, value))


def links_of(html: str) -> list[tuple[str, str, str]]:
    parser = Links()
    parser.feed(html)
    return parser.found


def one_click(message) -> str:
    """Unsubscribe the way a mail client does (RFC 8058): a POST to the List-Unsubscribe URL."""
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = str(message["List-Unsubscribe"]).strip().strip("<>")
    assert url.startswith(f"{ORIGIN}/"), url
    text = message.get_body(("plain",)).get_content()
    assert url in text, "the footer offers the same link"
    response = Client(enforce_csrf_checks=True, HTTP_HOST="news.org.example").post(
        urlsplit(url).path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded", secure=True
    )
    assert response.status_code == 200, response.status_code
    return url
