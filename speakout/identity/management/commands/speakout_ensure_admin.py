import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Create an administrator with a random password if the site has none, and print the "
        "login once. The password is never stored anywhere but as a hash."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--email", default="admin@localhost")

    def handle(self, *args, username, email, **options):
        User = get_user_model()
        admin_url = f"{settings.BASE_URL}/admin/"
        existing = User.objects.filter(is_superuser=True).order_by("pk").first()
        if existing is not None:
            self.stdout.write(
                f"Admin: {admin_url} (user {existing.get_username()!r}; the password was printed "
                f"when it was created; reset it with `speakout manage changepassword "
                f"{existing.get_username()}`)"
            )
            return
        # An account already holding the name is someone's: it is left alone, not promoted.
        base, n = username, 1
        while User.objects.filter(**{User.USERNAME_FIELD: username}).exists():
            n += 1
            username = f"{base}{n}"
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email=email, password=password)
        self.stdout.write("")
        self.stdout.write("=" * 64)
        self.stdout.write(f"Admin login (shown once, keep it safe): {admin_url}")
        self.stdout.write(f"  user:     {username}")
        self.stdout.write(f"  password: {password}")
        self.stdout.write("=" * 64)
        self.stdout.write("")
