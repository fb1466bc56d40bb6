"""The manage page finds a person's records through an index, not by reading every commenter."""

from __future__ import annotations

from speakout.discussion.models import Commenter
from speakout.privacy.services import Owner
from tests.queryplans import plan


def test_a_mailed_link_finds_the_address_s_records_in_any_case_through_the_upper_cased_index(db):
    proven = Commenter.objects.create(email="Ada@Example.org", address_proof=Commenter.AddressProof.MAIL)
    Commenter.objects.create(email="someone@example.org")

    commenters = Owner.for_email("ada@example.org").commenters()

    assert list(commenters) == [proven]
    assert "speakout_commenter_email_upper" in plan(commenters)


def test_a_signed_in_owner_s_records_by_address_and_by_account(db, django_user_model):
    user = django_user_model.objects.create_user("ada", "ada@example.org", "pw")
    by_account = Commenter.objects.create(user=user, address_proof=Commenter.AddressProof.ACCOUNT)
    by_address = Commenter.objects.create(email="ADA@example.org", address_proof=Commenter.AddressProof.MAIL)
    Commenter.objects.create(email="someone@example.org")

    owner = Owner(emails=["ada@example.org"], user=user)

    assert set(owner.commenters()) == {by_account, by_address}
