"""Rotating the site actor's key from Settings → Federation: a button leads to a confirmation
page, whose POST (with the CSRF check) runs the same rotation as ``speakout federation
rotate-key``. Only staff who may change the federation settings may; nobody else, no GET and no
cross-site POST rotates anything."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from wagtail.models import ModelLogEntry

from speakout.federation import keys
from speakout.federation.models import Delivery, Follower

pytestmark = pytest.mark.django_db
ROTATE = "/admin/federation/rotate-key/"
SETTINGS_PAGE = "/admin/settings/speakout_federation/federationsettings/"
SAME_ORIGIN = {"HTTP_ORIGIN": "http://testserver", "HTTP_SEC_FETCH_SITE": "same-origin"}


def staff(django_user_model, name: str, *codenames: str):
    user = django_user_model.objects.create_user(name, f"{name}@example.org", "pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin"))
    for codename in codenames:
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label="speakout_federation", codename=codename)
        )
    return user


@pytest.fixture
def followed(federation, bob):
    Follower.objects.create(actor=bob.actor, state=Follower.State.ACCEPTED, follow_id=bob.url + "#f")
    return keys.current()


def test_the_settings_page_offers_the_button_and_the_confirmed_post_rotates(followed, django_user_model):
    client = Client()
    client.force_login(staff(django_user_model, "keeper", "change_federationsettings"))
    page = client.get(SETTINGS_PAGE, follow=True)
    assert page.status_code == 200
    assert f'href="{ROTATE}"' in page.content.decode() and "Rotate the key" in page.content.decode()
    # The button leads to a confirmation; looking at it changes nothing.
    confirm = client.get(ROTATE)
    assert confirm.status_code == 200
    body = confirm.content.decode()
    assert 'method="post"' in body and "csrfmiddlewaretoken" in body and "1 server" in body
    assert keys.current().pk == followed.pk and not Delivery.objects.exists()

    answer = client.post(ROTATE, {"key": followed.pk}, **SAME_ORIGIN)
    assert answer.status_code == 302 and answer["Location"].startswith(SETTINGS_PAGE)
    new = keys.current()
    assert new.pk != followed.pk and new.public_pem != followed.public_pem
    (update,) = Delivery.objects.filter(payload__type="Update")
    assert update.payload["object"]["publicKey"]["publicKeyPem"] == new.public_pem
    assert "new key" in client.get(answer["Location"], follow=True).content.decode().lower()
    # Who rotated, and when, is in the admin's history.
    (entry,) = ModelLogEntry.objects.filter(action="speakout_federation.rotate_key")
    assert entry.user.username == "keeper" and entry.data == {"inboxes": 1}


def test_without_the_permission_or_outside_the_staff_nothing_rotates(followed, django_user_model):
    reader = django_user_model.objects.create_user("reader", "reader@example.org", "pw")
    viewer = staff(django_user_model, "viewer")  # in the admin, without the settings permission
    for user in (reader, viewer):
        client = Client()
        client.force_login(user)
        assert client.get(ROTATE).status_code in (302, 403)
        assert client.post(ROTATE, {"key": followed.pk}, **SAME_ORIGIN).status_code in (302, 403)
    anonymous = Client().post(ROTATE, {"key": followed.pk}, **SAME_ORIGIN)
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
    assert keys.current().pk == followed.pk and not Delivery.objects.exists()
    # A group granting the permission is enough, as for the settings themselves.
    group = Group.objects.create(name="Fediverse keepers")
    group.permissions.add(Permission.objects.get(codename="change_federationsettings"))
    viewer.groups.add(group)
    client = Client()
    client.force_login(viewer)
    assert client.post(ROTATE, {"key": followed.pk}, **SAME_ORIGIN).status_code == 302
    assert keys.current().pk != followed.pk


def test_a_post_without_the_csrf_token_or_from_another_site_is_refused(followed, django_user_model):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff(django_user_model, "keeper", "change_federationsettings"))
    assert client.post(ROTATE, {}).status_code == 403  # no browser headers: Django's token check
    cross = {"HTTP_ORIGIN": "https://evil.example", "HTTP_SEC_FETCH_SITE": "cross-site"}
    assert client.post(ROTATE, {}, **cross).status_code == 403
    assert keys.current().pk == followed.pk and not Delivery.objects.exists()


def test_the_settings_page_still_shows_every_setting():
    """The button needs the screen's panels spelled out; a setting added later must join them."""
    from wagtail.admin.panels import get_edit_handler

    from speakout.federation.models import FederationSettings

    editable = {
        field.name for field in FederationSettings._meta.concrete_fields if field.editable and not field.primary_key
    }
    form_class = get_edit_handler(FederationSettings).get_form_class()
    assert editable and editable <= set(form_class.base_fields)


def test_a_repeated_confirmation_is_a_no_op_that_says_the_key_was_just_rotated(followed, django_user_model):
    # A double click (or a resent form) names the key it meant to replace, which is retired
    # by then: nothing rotates again and nothing more is sent.
    client = Client()
    client.force_login(staff(django_user_model, "keeper", "change_federationsettings"))
    assert f'name="key" value="{followed.pk}"' in client.get(ROTATE).content.decode()
    first = client.post(ROTATE, {"key": followed.pk}, **SAME_ORIGIN)
    new = keys.current()
    assert first.status_code == 302 and new.pk != followed.pk
    again = client.post(ROTATE, {"key": followed.pk}, **SAME_ORIGIN)
    assert again.status_code == 302 and keys.current().pk == new.pk
    assert Delivery.objects.filter(payload__type="Update").count() == 1
    assert "just rotated" in client.get(again["Location"], follow=True).content.decode()
    # A POST naming no key (a stale form) rotates nothing either.
    assert client.post(ROTATE, {}, **SAME_ORIGIN).status_code == 302 and keys.current().pk == new.pk
