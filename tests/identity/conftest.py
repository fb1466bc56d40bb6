import pytest


@pytest.fixture
def user_factory(db):
    """Make a site account with a verified email address; returns (user, password)."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model

    def make(username="ada", email="ada@example.org", password="a long passphrase 42", **extra):
        user = get_user_model().objects.create_user(username, email, password, **extra)
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        return user, password

    return make
