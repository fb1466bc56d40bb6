"""A guest who types someone's address before its owner ever writes here plants a record under
it. That claim must never become the owner's identity (DESIGN.md "trust follows proof"): when the
owner later verifies the address with a site account, the planted record is not linked to the
account, its ban, trust and replies stay the guest's, it does not keep the owner's record from
holding the address, and the guest's token never rides the owner's trust.

A record whose address was proven (imported from the organisation's own data, confirmed by a
mailed link, or verified by an account) still becomes the account's: that is how someone's
earlier replies become theirs.
"""

from __future__ import annotations

import sqlite3
import time

import pytest
from django.test import Client

from speakout.discussion import services
from speakout.discussion.forms import issue_form_token
from speakout.discussion.models import Commenter, Reply
from speakout.interchange.importers import run_import
from speakout.outbox.models import OutgoingMail
from speakout.subscriptions import services as subscriptions
from speakout.subscriptions import tokens as subscription_tokens
from speakout.subscriptions.models import Subscription
from tests.interchange.helpers import ISSO_SCHEMA
from tests.security.claims import FRONT_ENDS, KEY, fresh_client, make_owner, send
from tests.subscriptions.helpers import mails_to

pytestmark = pytest.mark.django_db

VICTIM = "victim@example.org"


def post_form(client: Client, **fields) -> dict:
    """Post through the HTML form as a browser would (its guest cookie kept by the client)."""
    data = {"thread": KEY, "form_token": issue_form_token(KEY, issued_at=time.time() - 10), **fields}
    response = client.post("/discussion/post/", data, headers={"Accept": "application/json"})
    return response.json()


def owner_posts(user, body: str = "My own first words here.") -> Reply:
    client = fresh_client()
    client.force_login(user)
    answer = post_form(client, body=body)
    assert answer["outcome"] in ("published", "held"), answer
    return Reply.objects.select_related("commenter").get(pk=answer["id"])


def planted(front: str) -> tuple[Client, Reply, str]:
    """The attacker's reply, typed with the victim's address through one front end."""
    client = fresh_client()
    answer = send(front, client, name="Victim", email=VICTIM, body="Planted under someone else's address.")
    assert answer.outcome in ("published", "held")
    return client, Reply.objects.select_related("commenter").get(pk=answer.reply_id), answer.guest_token


@pytest.mark.parametrize("front", FRONT_ENDS)
def test_a_typed_address_is_not_linked_to_the_account_that_verifies_it(front, site):
    _client, squat, _token = planted(front)
    assert squat.commenter is not None and squat.commenter.email == VICTIM

    owner = make_owner()
    own = owner_posts(owner)

    squatter = Commenter.objects.get(pk=squat.commenter_id)
    assert squatter.user_id is None, "the guest's record became the owner's account record"
    assert own.commenter_id != squat.commenter_id
    assert not Reply.objects.filter(commenter__user=owner, pk=squat.pk).exists()
    # The owner's record holds the address the account proved, the claim does not keep it away.
    assert own.commenter.email == VICTIM


def test_the_squatter_s_ban_does_not_reach_the_owner(site):
    _client, squat, _token = planted("form")
    services.ban_commenter(squat.commenter, reason="abuse")

    own = owner_posts(make_owner())

    assert own.status != Reply.Status.SPAM, "the owner was filed as spam under the squatter's ban"
    assert not own.commenter.is_banned


def test_the_squatter_s_trust_does_not_reach_the_owner(site):
    """Trust is earned by the record's own approved replies: a moderator approving the
    squatter's reply says nothing about the owner, whose first reply is held like anyone's."""
    _client, squat, _token = planted("form")
    services.set_status(squat, Reply.Status.APPROVED)

    own = owner_posts(make_owner())

    assert own.status == Reply.Status.PENDING, "the owner skipped moderation on the squatter's approval"
    assert own.commenter.approved_count == 0


@pytest.mark.parametrize("front", ["form", "api", "embed"])
def test_the_squatter_does_not_ride_the_owner_s_trust(front, site):
    client, squat, token = planted(front)
    owner = make_owner()
    own = owner_posts(owner)
    services.set_status(own, Reply.Status.APPROVED)
    assert Commenter.objects.get(user=owner).approved_count == 1

    again = send(front, client, guest=token, name="Victim", email=VICTIM, body="Now I am trusted, am I?")

    assert again.outcome == "held", "the squatter's token reached the owner's trusted record"
    stored = Reply.objects.select_related("commenter").get(pk=again.reply_id)
    assert stored.commenter is None or stored.commenter.user_id is None
    # The owner's moderation record lists only their own reply.
    assert list(Reply.objects.filter(commenter__user=owner).values_list("pk", flat=True)) == [own.pk]


def test_a_typed_address_does_not_spend_the_owner_s_rate_limit(site, settings):
    """The per-address limit counts what a guest types: it must not pause a writer who proved
    the address."""
    owner = make_owner()
    owner_posts(owner, body="Hello from my account.")
    settings.SPEAKOUT_DISCUSSION_SECONDS_BETWEEN_REPLIES = 60
    planted("form")

    client = fresh_client()
    client.force_login(owner)
    answer = post_form(client, body="My second reply, a minute later.")

    assert answer["outcome"] != "rejected", answer


def isso_archive(path, email: str) -> None:
    """The organisation's old Isso database, with one approved reply by ``email``."""
    db = sqlite3.connect(path)
    db.executescript(
        ISSO_SCHEMA
        + f"""
        INSERT INTO threads VALUES (1, '/archive/', 'From the archive');
        INSERT INTO comments (tid, id, parent, created, mode, text, author, email)
            VALUES (1, 1, NULL, 1700000000, 1, 'Written years ago.', 'Victim', '{email}'),
                   (1, 2, NULL, 1700000100, 1, 'And again.', 'Victim', '{email}');
        """
    )
    db.commit()
    db.close()


def test_an_import_does_not_file_the_organisation_s_replies_under_a_typed_claim(site, site_builder, tmp_path):
    """Imported replies carry the organisation's own record of who wrote them: they go to a
    record of their own, never to a guest's typed claim, whose token would then carry their
    approvals; and that record is what the owner's verified account takes over."""
    client, squat, token = planted("api")
    path = tmp_path / "comments.db"
    isso_archive(path, VICTIM)
    run_import(path)

    archived = Reply.objects.filter(external_id__startswith="isso:").select_related("commenter")
    assert archived.count() == 2
    assert {reply.commenter_id for reply in archived} != {squat.commenter_id}
    assert Commenter.objects.get(pk=squat.commenter_id).approved_count == 0

    again = send("api", client, guest=token, name="Victim", email=VICTIM, body="The archive vouches for me.")
    assert again.outcome == "held", "the squatter's token earned the imported replies' trust"

    own = owner_posts(make_owner())
    assert own.commenter_id == archived[0].commenter_id, "the owner's imported replies did not become theirs"
    assert own.status == Reply.Status.APPROVED
    assert Commenter.objects.get(pk=squat.commenter_id).user_id is None


def confirm_by_mail(reply: Reply) -> None:
    """Click the confirmation link mailed about ``reply`` (the reader owns the mailbox)."""
    subscription = Subscription.objects.get(reply=reply)
    link = subscription_tokens.make_token(subscription, subscription_tokens.CONFIRM)
    response = Client().post(f"/subscriptions/confirm/{link}/")
    assert response.status_code == 200
    assert Subscription.objects.get(pk=subscription.pk).confirmed_at is not None


def test_a_guest_s_replies_become_their_account_s_once_their_address_is_confirmed_by_mail(site):
    """The real feature: a guest who confirmed the mail about their reply proved the address;
    their account verifying it later takes over their record, with its trust."""
    client = fresh_client()
    answer = post_form(client, name="Victim", email=VICTIM, body="As a guest, first.", notify_answers="on")
    guest_reply = Reply.objects.get(pk=answer["id"])
    services.set_status(guest_reply, Reply.Status.APPROVED)
    confirm_by_mail(guest_reply)

    owner = make_owner()
    own = owner_posts(owner)

    assert own.commenter_id == guest_reply.commenter_id
    assert Commenter.objects.get(pk=guest_reply.commenter_id).user_id == owner.pk
    assert own.status == Reply.Status.APPROVED


def test_once_a_record_is_an_account_s_a_guest_token_no_longer_reaches_it(site):
    """Even a proven link may have been planted (the owner confirmed a mail about a reply that
    was not theirs): from then on only signing in reaches the account's record, so the token
    of whoever wrote that reply rides none of the owner's trust."""
    client, squat, token = planted("api")
    # The squatter asked for mail about their reply, and the owner clicked its link.
    subscriptions.request_reply_mail(VICTIM, squat, answers=True)
    confirm_by_mail(squat)
    owner = make_owner()
    own = owner_posts(owner)
    services.set_status(own, Reply.Status.APPROVED)
    assert own.commenter_id == squat.commenter_id, "the mailed proof links the record"

    again = send("api", client, guest=token, name="Victim", email=VICTIM, body="Riding on the account.")

    assert again.outcome == "held"
    stored = Reply.objects.select_related("commenter").get(pk=again.reply_id)
    assert stored.commenter is None or stored.commenter.user_id is None


def test_the_migration_keeps_imported_and_linked_records_proven_and_every_other_address_a_claim(site):
    """Rows from before ``address_proof``: a record already an account's keeps its link, one
    with imported replies keeps linking; every other address was typed by a guest."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("speakout.discussion.migrations.0014_commenter_address_proof")
    linked = Commenter.objects.create(email="linked@example.org", user=make_owner("linked@example.org", "linked"))
    imported = Commenter.objects.create(email="archive@example.org")
    Reply.objects.create(thread=site, commenter=imported, body="Old.", status="approved", external_id="wxr:1:7")
    typed = Commenter.objects.create(email="typed@example.org")
    Reply.objects.create(thread=site, commenter=typed, body="Typed.", status="approved")
    nameless = Commenter.objects.create(user=make_owner("other@example.org", "other"))

    migration.mark_proven_addresses(apps, None)

    proof = dict(Commenter.objects.values_list("pk", "address_proof"))
    assert proof[linked.pk] == Commenter.AddressProof.ACCOUNT
    assert proof[imported.pk] == Commenter.AddressProof.IMPORTED
    assert proof[typed.pk] == Commenter.AddressProof.TYPED
    assert proof[nameless.pk] == Commenter.AddressProof.TYPED


def _owner_watching(**wish) -> tuple[Reply, Client]:
    """The owner's approved reply, written while signed in with a box ticked (subscribed at
    once: the account verified the address)."""
    client = fresh_client()
    client.force_login(make_owner())
    answer = post_form(client, body="Tell me what others say.", **wish)
    own = Reply.objects.get(pk=answer["id"])
    services.set_status(own, Reply.Status.APPROVED)
    assert Subscription.objects.filter(email=VICTIM, confirmed_at__isnull=False).exists()
    OutgoingMail.objects.all().delete()
    return own, client


def test_an_answer_under_a_typed_claim_to_the_owner_s_address_is_still_mailed_to_the_owner(site):
    """ "Not about one's own answer" is decided by proof: an answer typed with the owner's
    address must not silence the owner's mail about it."""
    squatter, _squat, _token = planted("form")
    own, _client = _owner_watching(notify_answers="on")

    answer = post_form(squatter, name="Victim", email=VICTIM, body="An answer you never hear of.", parent=own.pk)
    services.set_status(Reply.objects.get(pk=answer["id"]), Reply.Status.APPROVED)

    assert [mail for mail in mails_to(VICTIM) if "answered your reply" in mail.subject]


def test_a_reply_under_a_typed_claim_to_a_follower_s_address_is_still_mailed_to_the_follower(site):
    squatter, _squat, _token = planted("form")
    _own, _client = _owner_watching(notify_replies="on")

    reply = post_form(squatter, name="Victim", email=VICTIM, body="A reply you never hear of.")
    services.set_status(Reply.objects.get(pk=reply["id"]), Reply.Status.APPROVED)

    assert [mail for mail in mails_to(VICTIM) if "New reply" in mail.subject]


def test_the_owner_proves_their_address_by_mail_even_after_a_squatter_typed_it_first(site):
    """A squatter's claim keeps the owner's later guest record from the address, but not from
    proving it: once the owner confirms the mail about their own reply, their record holds the
    address, proven, and their account later takes it over (not the squatter's)."""
    planted("api")
    client = fresh_client()
    answer = post_form(client, name="Victim", email=VICTIM, body="The owner, as a guest.", notify_answers="on")
    own_guest_reply = Reply.objects.select_related("commenter").get(pk=answer["id"])
    assert own_guest_reply.commenter.email == "", "the squatter's claim came first"

    confirm_by_mail(own_guest_reply)

    record = Commenter.objects.get(pk=own_guest_reply.commenter_id)
    assert (record.email, record.address_proof) == (VICTIM, Commenter.AddressProof.MAIL)
    owner = make_owner()
    assert owner_posts(owner).commenter_id == record.pk


def test_a_mailed_confirmation_does_not_move_an_address_a_proven_record_holds(site):
    """With the address already proven elsewhere, an address-less record confirming a mail about
    its reply stays as it is: one proven holder per address."""
    client = fresh_client()
    first = post_form(client, name="Victim", email=VICTIM, body="The first, confirmed.", notify_answers="on")
    confirm_by_mail(Reply.objects.get(pk=first["id"]))
    other = post_form(fresh_client(), name="Victim", email=VICTIM, body="Another browser.", notify_answers="on")
    other_reply = Reply.objects.select_related("commenter").get(pk=other["id"])
    assert other_reply.commenter.email == ""

    confirm_by_mail(other_reply)

    assert Commenter.objects.get(pk=other_reply.commenter_id).email == ""
    assert Commenter.objects.filter(email=VICTIM).count() == 1
