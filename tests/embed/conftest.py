import pytest
from django.test import Client

from speakout.embed.models import AllowedOrigin
from tests.embed.helpers import SITE


@pytest.fixture
def allowed_site(db):
    return AllowedOrigin.objects.create(origin=SITE)


@pytest.fixture
def client():
    return Client(HTTP_ORIGIN=SITE)
