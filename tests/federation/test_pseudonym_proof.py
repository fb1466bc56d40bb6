"""Who is a pseudonym is stored, not guessed: "reply under a pseudonym" marks the account it opens,
and the federation reads the mark. Guessing from the account (no password, no login provider) got
two cases wrong: a pseudonym that later set a password counted as a member (and its replies could
go to the Fediverse under its pseudonym), and an account staff made without a password counted as
a pseudonym. Accounts opened before the mark existed are marked by a migration that reads the
sign-up's traces (see speakout/identity/migrations/0001_initial.py)."""

from __future__ import annotations

import importlib
import re

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.apps import apps
from django.contrib.auth import get_user_model
from django.urls import reverse
from wagtail.models import ModelLogEntry

from speakout.discussion.models import Reply, Thread
from speakout.discussion.services import Author, submit_reply
from speakout.federation import replies_out
from speakout.federation.models import Delivery, FederatedReply, Follower
from speakout.identity.models import PseudonymAccount, is_pseudonym
from speakout.identity.receivers import mark_email_verified
from speakout.outbox.models import OutgoingMail
from tests.helpers import word_marker

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def thread(federation, site_builder, bob, rules):
    federation.federate_member_replies = True
    federation.save()
    Follower.objects.create(actor=bob.actor, state=Follower.State.ACCEPTED, follow_id=bob.url + "#f")
    report = site_builder.report("Rivers", standfirst="Dry.")
    Delivery.objects.all().delete()  # the report's own Create
    return Thread.objects.get(key=report.thread_key)


def federated(thread: Thread, user) -> bool:
    """Whether a reply by ``user`` that asks to go to the Fediverse goes there."""
    data = {"thread": thread.key, "body": f"Reply {word_marker(32)}", "federate": True}
    result = submit_reply(thread=thread, data=data, author=Author(user=user), checks=[], check_form_token=False)
    assert result.ok, result.errors
    assert result.stored.status == Reply.Status.APPROVED
    return FederatedReply.objects.filter(reply=result.stored, outgoing=True).exists()


def open_pseudonym(client, name: str = "quietfox", email: str = "lena@example.org"):
    """The reader's own path: the pseudonym form, then the mailed link."""
    response = client.post(reverse("identity:pseudonym"), {"username": name, "email": email, "next": "/"})
    assert response.status_code == 302, response.content.decode()
    mail = OutgoingMail.objects.get(to=email)
    link = re.search(r"https?://[^\s\"<]+/accounts/confirm-email/[^\s\"<]+", mail.text_body).group(0)
    assert client.post(link.split("testserver", 1)[-1]).status_code == 302
    return User.objects.get(username=name)


def test_an_account_opened_under_a_pseudonym_is_marked_and_never_federates(client, thread):
    user = open_pseudonym(client)
    assert is_pseudonym(user) and PseudonymAccount.objects.filter(user=user).exists()
    assert not replies_out.member_may_federate(user)
    assert not federated(thread, user)


def test_a_pseudonym_that_later_sets_a_password_is_still_a_pseudonym(client, thread):
    user = open_pseudonym(client)
    user.set_password("a long enough password 42")
    user.save()
    assert user.has_usable_password() and is_pseudonym(user)
    assert not replies_out.member_may_federate(user)
    assert not federated(thread, user)


def test_an_account_staff_made_without_a_password_is_a_member(thread):
    user = User.objects.create_user("ines", email="ines@example.org", first_name="Ines")
    mark_email_verified(user)  # as the admin's "add user" does: staff typed the address
    assert not user.has_usable_password() and not is_pseudonym(user)
    assert replies_out.member_may_federate(user)
    assert federated(thread, user)


def test_a_member_with_a_password_or_a_provider_is_not_a_pseudonym(thread):
    member = User.objects.create_user("sam", email="sam@example.org", password="a long enough password 42")
    EmailAddress.objects.create(user=member, email=member.email, verified=True, primary=True)
    by_provider = User.objects.create_user("kim", email="kim@example.org")
    EmailAddress.objects.create(user=by_provider, email=by_provider.email, verified=True, primary=True)
    SocialAccount.objects.create(user=by_provider, provider="github", uid="42")
    assert not is_pseudonym(member) and not is_pseudonym(by_provider)
    assert federated(thread, member) and federated(thread, by_provider)


# The migration: accounts opened before the mark existed -----------------------------------------


def account(name: str, *, password: bool = False, email: bool = True, **fields):
    user = User.objects.create_user(name, email=f"{name}@example.org", **fields)
    if password:
        user.set_password("a long enough password 42")
        user.save()
    if email:
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def test_the_migration_marks_the_accounts_with_the_pseudonym_sign_up_s_traces(admin_user):
    migration = importlib.import_module("speakout.identity.migrations.0001_initial")
    signed_up = account("nightowl")  # no password, no provider, an address, made by no one
    account("member", password=True)
    account("staffer", is_staff=True)
    account("noaddress", email=False)  # every sign-up leaves an address; a command need not
    by_provider = account("provider")
    SocialAccount.objects.create(user=by_provider, provider="github", uid="7")
    in_the_admin = account("madebystaff")
    ModelLogEntry.objects.log_action(in_the_admin, "wagtail.create", user=admin_user)
    PseudonymAccount.objects.all().delete()

    migration.mark_existing_pseudonyms(apps, None)

    marked = set(PseudonymAccount.objects.values_list("user__username", flat=True))
    assert marked == {"nightowl"}
    assert PseudonymAccount.objects.get(user=signed_up).inferred
    migration.mark_existing_pseudonyms(apps, None)  # running it again changes nothing
    assert PseudonymAccount.objects.count() == 1
