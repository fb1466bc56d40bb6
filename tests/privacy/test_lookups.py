"""The manage page, the export and "forget me" find a person's records through an index, not by
reading every row of a table, and find the same rows in any spelling of the address's case."""

from __future__ import annotations

import re

from django.db import connection, transaction

from speakout.contact.models import ContactMessage
from speakout.discussion.models import Commenter
from speakout.outbox.models import OutgoingMail
from speakout.outbox.services import queue_mail
from speakout.privacy import services
from speakout.privacy.models import ManageRequest
from speakout.privacy.services import Owner
from speakout.subscriptions.models import Subscription
from tests.queryplans import explain, plan

# Every table the privacy services read by address, with the index that serves the read.
ADDRESS_INDEXES = {
    "speakout_subscriptions_subscription": "subscriptions_email_upper",
    "speakout_contact_contactmessage": "speakout_contact_email_upper",
    "speakout_outbox_outgoingmail": "speakout_outbox_to_upper",
    "speakout_privacy_managerequest": "speakout_manage_email_upper",
}


def _subscription(email, target="posts:"):
    return Subscription.objects.create(email=email, kind=Subscription.Kind.POSTS, target=target)


def _contact_message(email):
    return ContactMessage.objects.create(name="Kit", email=email, message="Hello")


def _mail(to, status=OutgoingMail.Status.PENDING):
    with transaction.atomic():
        mail = queue_mail(to, "Subject", "Text")
    OutgoingMail.objects.filter(pk=mail.pk).update(status=status)
    return mail


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


def test_the_subscriptions_of_an_address_are_read_through_the_upper_cased_index(db):
    subscriptions = Owner.for_email("kit@example.org").subscriptions()

    assert ADDRESS_INDEXES["speakout_subscriptions_subscription"] in plan(subscriptions)


def test_the_contact_messages_of_an_address_are_read_through_the_upper_cased_index(db):
    messages = Owner.for_email("kit@example.org").contact_messages()

    assert ADDRESS_INDEXES["speakout_contact_contactmessage"] in plan(messages)


def test_a_signed_in_owner_s_addresses_are_each_read_through_the_index(db):
    owner = Owner(emails=["kit@example.org", "Kit@Work.example"])

    assert ADDRESS_INDEXES["speakout_subscriptions_subscription"] in plan(owner.subscriptions())
    assert ADDRESS_INDEXES["speakout_contact_contactmessage"] in plan(owner.contact_messages())


def test_forget_me_reads_and_deletes_every_table_by_address_through_its_index(db):
    """Every statement "forget me" sends with the address (the subscriptions, the queued mail,
    the link requests) reads through the table's index on the upper-cased address."""
    Commenter.objects.create(email="Kit@Example.ORG", address_proof=Commenter.AddressProof.MAIL)
    _subscription("Kit@Example.ORG")
    _mail("Kit@Example.ORG")
    ManageRequest.objects.create(email="kit@example.org")
    statements = []

    def keep(execute, sql, params, many, context):
        if any(isinstance(value, str) and value.lower() == "kit@example.org" for value in params or ()):
            statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(keep):
        services.forget(Owner.for_email("kit@example.org"))

    tables = set()
    for sql, params in statements:
        table = re.search(r'^(?:SELECT .*? FROM|DELETE FROM|UPDATE) "(\w+)"', sql).group(1)
        if table in ADDRESS_INDEXES:
            tables.add(table)
            assert ADDRESS_INDEXES[table] in explain(sql, params), sql
    assert tables == {
        "speakout_subscriptions_subscription",
        "speakout_outbox_outgoingmail",
        "speakout_privacy_managerequest",
    }


# The same rows as the case-insensitive comparison found -----------------------------------------


def test_the_export_finds_every_row_of_the_address_in_any_spelling_of_its_case(db):
    mine = [_subscription("Kit@Example.ORG"), _subscription("kit@example.org", target="posts:housing")]
    messages = [_contact_message("Kit@Example.ORG"), _contact_message("KIT@EXAMPLE.ORG")]
    _subscription("kat@example.org")
    _subscription("k_t@example.org")  # a LIKE wildcard is no wildcard here
    _contact_message("kit@example.org.evil")
    _contact_message("kit%@example.org")

    for spelling in ("kit@example.org", "KIT@example.ORG"):
        owner = Owner(emails=[spelling])
        assert set(owner.subscriptions()) == set(mine)
        assert set(owner.contact_messages()) == set(messages)
        data = services.export(owner)
        assert sorted(row["email"] for row in data["subscriptions"]) == ["Kit@Example.ORG", "kit@example.org"]
        assert sorted(row["email"] for row in data["contact_messages"]) == ["KIT@EXAMPLE.ORG", "Kit@Example.ORG"]

    assert list(Owner(emails=["k_t@example.org"]).subscriptions().values_list("email", flat=True)) == [
        "k_t@example.org"
    ]


def test_forget_me_erases_every_row_of_the_address_in_any_spelling_of_its_case(db):
    commenter = Commenter.objects.create(email="KIT@example.org", address_proof=Commenter.AddressProof.MAIL)
    _subscription("Kit@Example.ORG")
    _subscription("kit@example.org", target="posts:housing")
    _mail("Kit@Example.ORG")
    _mail("kit@EXAMPLE.org", status=OutgoingMail.Status.FAILED)
    ManageRequest.objects.create(email="Kit@Example.ORG")
    ManageRequest.objects.create(email="kit@example.org")
    sending = _mail("kit@example.org", status=OutgoingMail.Status.SENDING)  # the worker holds it
    others = [
        _subscription("kat@example.org"),
        _subscription("k_t@example.org", target="posts:housing"),
        _mail("kit@example.org.evil"),
        _mail("k_t@example.org"),
        ManageRequest.objects.create(email="k%t@example.org"),
    ]

    services.forget(Owner.for_email("kit@example.org"))

    assert list(Subscription.objects.values_list("email", flat=True).order_by("email")) == [
        "k_t@example.org",
        "kat@example.org",
    ]
    assert set(OutgoingMail.objects.values_list("to", flat=True)) == {
        "kit@example.org",
        "kit@example.org.evil",
        "k_t@example.org",
    }
    assert OutgoingMail.objects.filter(to="kit@example.org").get() == sending
    assert list(ManageRequest.objects.values_list("email", flat=True)) == ["k%t@example.org"]
    commenter.refresh_from_db()
    assert commenter.forget_requested_at is not None
    assert len(others) == 5


def test_forget_me_reaches_the_rows_of_a_commenter_s_own_spelling(db):
    """A signed-in owner's verified address may differ in case from the one a record holds: the
    record's address is erased too."""
    Commenter.objects.create(email="Kit@Example.ORG", address_proof=Commenter.AddressProof.MAIL)
    _mail("KIT@EXAMPLE.ORG")
    ManageRequest.objects.create(email="KIT@EXAMPLE.ORG")

    services.forget(Owner(emails=["kit@example.org"]))

    assert not OutgoingMail.objects.exists()
    assert not ManageRequest.objects.exists()
