"""What the site serves from its media folder: the pictures pages show, nothing else. A document
is served by Wagtail's own view, which asks its collection's privacy first; the same file at its
address under ``MEDIA_URL`` would skip that question."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.files.images import ImageFile
from django.test import Client
from PIL import Image
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import Collection, CollectionViewRestriction

from tests.helpers import word_marker


@pytest.fixture
def private_document(site_builder):
    """A document in a collection only signed-in readers may open: a board's minutes, say."""
    collection = Collection.get_first_root_node().add_child(name="Board only")
    restriction = CollectionViewRestriction.objects.create(
        collection=collection, restriction_type=CollectionViewRestriction.GROUPS
    )
    restriction.groups.add(Group.objects.create(name="Board"))
    secret = word_marker()
    document = get_document_model()(title="Minutes", collection=collection)
    document.file.save("minutes.txt", ContentFile(f"minutes {secret}".encode()), save=False)
    document.save()
    yield document, secret
    document.file.delete(save=False)


def _body(response) -> str:
    return (b"".join(response.streaming_content) if response.streaming else response.content).decode()


@pytest.mark.django_db
@pytest.mark.parametrize("prefix", ["", "original_images/../", "images/%2e%2e/"], ids=["direct", "dots", "encoded"])
def test_a_document_in_a_private_collection_is_not_served_from_the_media_folder(private_document, prefix):
    """Wagtail's address asks the reader to sign in; the file's own address under MEDIA_URL, whose
    name anyone can guess from the upload's, answers 404 instead of the file."""
    document, secret = private_document
    client = Client()
    guarded = client.get(document.url)
    assert guarded.status_code == 302 and secret not in _body(guarded)
    direct = client.get(f"{settings.MEDIA_URL}{prefix}{document.file.name}")
    assert secret not in _body(direct)
    assert direct.status_code == 404


@pytest.mark.django_db
def test_an_image_and_its_renditions_are_still_served_from_the_media_folder(site_builder):
    """Pages (and imported posts' bodies) show pictures by their MEDIA_URL address."""
    picture = io.BytesIO()
    Image.new("RGB", (40, 30), "teal").save(picture, format="PNG")
    image = get_image_model()(title="Teal")
    image.file.save("teal.png", ImageFile(picture, name="teal.png"), save=False)
    image.save()
    rendition = image.get_rendition("width-20")
    try:
        for url in (image.file.url, rendition.url):
            response = Client().get(url)
            assert response.status_code == 200, url
            assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    finally:
        rendition.file.delete(save=False)
        image.file.delete(save=False)
