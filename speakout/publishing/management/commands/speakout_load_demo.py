from django.core.management.base import BaseCommand

from speakout.publishing.demo import demo_skip_reason, load_demo_content
from speakout.publishing.home import HomePageRefused


class Command(BaseCommand):
    help = (
        "Load the demo organisation, reports and pages into an empty site. A site with any page "
        "or reply is left exactly as it is: the demo never replaces or deletes anything."
    )

    def handle(self, *args, **options):
        reason = demo_skip_reason()
        if not reason:
            try:
                if load_demo_content():
                    self.stdout.write("Loaded the demo content.")
                    return
            except HomePageRefused as refused:
                reason = str(refused)
            reason = reason or demo_skip_reason()
        self.stdout.write(f"Demo content not loaded: {reason}. Nothing was changed.")
