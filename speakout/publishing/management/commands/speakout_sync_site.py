from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand
from wagtail.models import Site

from speakout.publishing.discussion import sync_reports
from speakout.publishing.models import ReportPage


class Command(BaseCommand):
    help = (
        "Point the default Wagtail site at SPEAKOUT_BASE_URL, so canonical links, feeds and "
        "the sitemap use the address readers see. Other sites are left alone."
    )

    def handle(self, *args, **options):
        parts = urlsplit(settings.BASE_URL)
        hostname = parts.hostname or "localhost"
        port = parts.port or (443 if parts.scheme == "https" else 80)
        updated = (
            Site.objects.filter(is_default_site=True)
            .exclude(hostname=hostname, port=port)
            .update(hostname=hostname, port=port)
        )
        if updated:
            Site.clear_site_root_paths_cache()
            # Threads remember their report's address for feeds and notices; follow the move.
            sync_reports(ReportPage.objects.all())
            self.stdout.write(f"The default site now answers as {settings.BASE_URL}.")
