"""Settings > Pseudonymous accounts: the marks "reply under a pseudonym" left, listed in the
Wagtail admin, where a moderator given the right removes one after a confirmation (logged), and
nobody else can."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from wagtail.models import ModelLogEntry

from speakout.identity.models import PseudonymAccount, is_pseudonym

pytestmark = pytest.mark.django_db

User = get_user_model()
INDEX = "/admin/pseudonymous-accounts/"


def remove_url(mark: PseudonymAccount) -> str:
    return f"{INDEX}delete/{mark.pk}/"


@pytest.fixture
def marks(db):
    owl = User.objects.create_user("Night Owl", "owl@example.org")
    lark = User.objects.create_user("Early Lark", "lark@example.org")
    return PseudonymAccount.objects.create(user=owl), PseudonymAccount.objects.create(user=lark, inferred=True)


def staff_member(*codenames: str):
    group = Group.objects.create(name="Reply moderators")
    group.permissions.add(Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin"))
    for codename in codenames:
        group.permissions.add(Permission.objects.get(content_type__app_label="speakout_identity", codename=codename))
    user = User.objects.create_user("moira", "moira@example.org", "x")
    user.groups.add(group)
    return user


def test_a_moderator_with_the_right_removes_a_mark_after_confirming(client, marks):
    owl, lark = marks
    client.force_login(staff_member("delete_pseudonymaccount"))
    listing = client.get(INDEX).content.decode()
    assert "Night Owl" in listing and "Early Lark" in listing
    assert remove_url(owl) in listing

    page = client.get(remove_url(owl)).content.decode()
    assert "Remove the pseudonym mark" in page and "Night Owl" in page
    assert is_pseudonym(owl.user), "looking at the page changes nothing"

    response = client.post(remove_url(owl))
    assert response.status_code == 302 and response["Location"] == INDEX
    assert not is_pseudonym(owl.user) and User.objects.filter(pk=owl.user_id).exists(), "the account stays"
    assert is_pseudonym(lark.user)
    assert ModelLogEntry.objects.filter(action="wagtail.delete", object_id=str(owl.pk)).exists()


def test_staff_without_the_right_can_neither_see_nor_remove_a_mark(client, marks):
    owl, _lark = marks
    client.force_login(staff_member())
    assert client.get(INDEX).status_code == 302
    assert client.post(remove_url(owl)).status_code == 302
    assert is_pseudonym(owl.user)


def test_no_mark_is_added_or_edited_in_the_admin(admin_client, marks):
    owl, _lark = marks
    assert admin_client.get(f"{INDEX}add/").status_code == 404
    assert admin_client.get(f"{INDEX}edit/{owl.pk}/").status_code == 404
    assert f"{INDEX}edit/" not in admin_client.get(INDEX).content.decode()
