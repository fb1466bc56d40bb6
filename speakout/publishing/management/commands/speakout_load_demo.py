from django.core.management.base import BaseCommand

from speakout.publishing.demo import load_demo_content


class Command(BaseCommand):
    help = "Load the demo organisation, reports and pages (does nothing if a home page exists)."

    def handle(self, *args, **options):
        if load_demo_content():
            self.stdout.write("Loaded the demo content.")
        else:
            self.stdout.write("Demo content not loaded: the site already has a home page.")
