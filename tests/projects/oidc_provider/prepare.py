"""Prepare the provider's database: tables, one user and one OIDC client application.

python -m tests.projects.oidc_provider.prepare REDIRECT_URI CLIENT_ID CLIENT_SECRET USERNAME PASSWORD NAME EMAIL
"""

import os
import sys


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.projects.oidc_provider.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from oauth2_provider.models import Application

    redirect_uri, client_id, client_secret, username, password, name, email = argv
    call_command("migrate", verbosity=0, interactive=False)
    first, _space, last = name.partition(" ")
    get_user_model().objects.create_user(username, email, password, first_name=first, last_name=last)
    Application.objects.create(
        name="Speakout (test)",
        client_id=client_id,
        client_secret=client_secret,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=redirect_uri,
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=False,
    )
    print("provider ready")


if __name__ == "__main__":
    main(sys.argv[1:])
