"""The download of "Manage my replies" holds every row about the address, beyond the replies and
subscriptions: the mail sent or waiting for it, the requests for the page's link, and what the
mail server said of it (soft bounces, a suppression); never a secret that acts on the data."""

from __future__ import annotations

import json

import pytest
from django.db import transaction

from speakout.outbox import bounces
from speakout.outbox.models import OutgoingMail, Suppression
from speakout.outbox.services import queue_mail, send_due_mail
from speakout.privacy.models import ManageRequest
from tests.privacy.helpers import EMAIL, mails_to, verify

pytestmark = pytest.mark.django_db

OTHER = "other@example.org"


def _sent(to, subject):
    with transaction.atomic():
        mail = queue_mail(to, subject, f"Body of {subject}", "")
    send_due_mail()
    mail.refresh_from_db()
    assert mail.status == OutgoingMail.Status.SENT
    return mail


def test_the_download_holds_the_address_s_mail_link_requests_and_bounces(thread, reply_as, manage_link, client):
    reply_as(thread)
    sent = _sent(EMAIL.upper(), "A mail that went out")
    bounces.record_refusal(EMAIL, sent.pk, "452 4.2.2 Mailbox full")
    bounces.suppress(EMAIL, Suppression.Reason.COMPLAINT, "marked as spam")
    other_mail = _sent(OTHER, "Someone else's mail")
    bounces.record_refusal(OTHER, other_mail.pk, "452 4.2.2 Mailbox full")
    bounces.suppress(OTHER, Suppression.Reason.HARD_BOUNCE)
    ManageRequest.objects.create(email=OTHER)
    path = manage_link()
    link_mail = mails_to(EMAIL)[-1]
    assert link_mail.status == OutgoingMail.Status.FAILED  # suppressed: it never leaves
    with transaction.atomic():
        queue_mail(EMAIL, "A mail still waiting", "Body of the waiting mail", "")

    response = client.get(f"{path}export.json")

    assert response.status_code == 200
    data = json.loads(response.content)
    assert [(mail["to"], mail["subject"], mail["status"]) for mail in data["mail"]] == [
        (EMAIL.upper(), "A mail that went out", "sent"),
        (EMAIL, link_mail.subject, "failed"),
        (EMAIL, "A mail still waiting", "pending"),
    ]
    assert data["mail"][0]["sent_at"] == sent.sent_at.isoformat()
    assert [request["email"] for request in data["manage_link_requests"]] == [EMAIL]
    assert [(bounce["address"], bounce["detail"]) for bounce in data["soft_bounces"]] == [
        (EMAIL, "452 4.2.2 Mailbox full")
    ]
    assert [(row["address"], row["reason"], row["detail"]) for row in data["suppressions"]] == [
        (EMAIL, "complaint", "marked as spam")
    ]
    text = response.content.decode()
    assert OTHER not in text
    request = ManageRequest.objects.get(email=EMAIL)
    assert request.secret not in text, "the link's key is not handed on"
    assert path.strip("/").rsplit("/", 1)[-1] not in text
    assert "Body of" not in text and "/privacy/my-replies/" not in text, "no mail body, no working link"


def test_a_signed_in_download_holds_the_mail_to_the_account_s_verified_addresses(client, django_user_model):

    member = django_user_model.objects.create_user("sam", "sam@example.org", "a long password")
    verify(member, "sam@example.org")
    _sent("Sam@Example.org", "Your answer")
    _sent(OTHER, "Not yours")
    client.force_login(member)

    data = json.loads(client.get("/privacy/my-data/export.json").content)

    assert [(mail["to"], mail["subject"]) for mail in data["mail"]] == [("Sam@Example.org", "Your answer")]
    assert data["manage_link_requests"] == [] and data["soft_bounces"] == [] and data["suppressions"] == []


def test_a_signed_in_download_holds_the_account_s_addresses_and_linked_logins(client, django_user_model):
    """The account's download holds what allauth keeps for it: each of its addresses (verified or
    not, which is primary) and each login linked from a provider (its uid, dates, and what the
    provider sent about the person); never the provider's access token, the password hash or the
    session key, and nothing of another account."""
    from allauth.account.models import EmailAddress
    from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken

    member = django_user_model.objects.create_user("sam", "sam@example.org", "a long password", first_name="Sam")
    EmailAddress.objects.create(user=member, email="sam@example.org", verified=True, primary=True)
    EmailAddress.objects.create(user=member, email="sam.old@example.net", verified=False, primary=False)
    app = SocialApp.objects.create(provider="github", name="GitHub", client_id="app-id", secret="app-secret")
    linked = SocialAccount.objects.create(
        user=member, provider="github", uid="4242", extra_data={"login": "samhub", "name": "Sam Hub", "followers": 7}
    )
    SocialToken.objects.create(app=app, account=linked, token="gho-access-token-4242", token_secret="refresh-4242")
    kim = django_user_model.objects.create_user("kim", "kim@example.org", "another long password")
    EmailAddress.objects.create(user=kim, email="kim@example.org", verified=True, primary=True)
    EmailAddress.objects.create(user=kim, email="kim.unproven@example.net", verified=False, primary=False)
    theirs = SocialAccount.objects.create(user=kim, provider="github", uid="uid-of-kim", extra_data={"login": "kimhub"})
    SocialToken.objects.create(app=app, account=theirs, token="gho-access-token-of-kim")
    client.force_login(member)

    response = client.get("/privacy/my-data/export.json")

    assert response.status_code == 200
    account = json.loads(response.content)["account"]
    assert account["username"] == "sam" and account["name"] == "Sam" and account["email"] == "sam@example.org"
    assert account["date_joined"] == member.date_joined.isoformat()
    assert sorted(
        (address["email"], address["verified"], address["primary"]) for address in account["email_addresses"]
    ) == [("sam.old@example.net", False, False), ("sam@example.org", True, True)]
    [social] = account["social_accounts"]
    linked.refresh_from_db()
    assert social == {
        "provider": "github",
        "uid": "4242",
        "date_joined": linked.date_joined.isoformat(),
        "last_login": linked.last_login.isoformat(),
        "extra_data": {"login": "samhub", "name": "Sam Hub", "followers": 7},
    }
    text = response.content.decode()
    for elsewhere in ("kim", "gho-access-token", "refresh-4242", "app-secret", "app-id"):
        assert elsewhere not in text, elsewhere
    member.refresh_from_db()
    assert member.password not in text and member.password.split("$")[-1] not in text, "no password hash"
    assert client.session.session_key not in text, "no session key"


def test_a_signed_in_download_lists_the_account_s_second_factors_without_their_secrets(client, django_user_model):
    """Each second factor the account set up (its kind, when it was added and last used), never
    its data: a TOTP seed or recovery codes in a passed-on file would undo the second factor."""
    from allauth.mfa.models import Authenticator

    member = django_user_model.objects.create_user("sam", "sam@example.org", "a long password")
    totp = Authenticator.objects.create(user=member, type=Authenticator.Type.TOTP, data={"secret": "TOTPSEED4242"})
    codes = Authenticator.objects.create(
        user=member, type=Authenticator.Type.RECOVERY_CODES, data={"seed": "recovery-seed-4242", "used_mask": 0}
    )
    kim = django_user_model.objects.create_user("kim", "kim@example.org", "another long password")
    Authenticator.objects.create(user=kim, type=Authenticator.Type.WEBAUTHN, data={"name": "kim's key"})
    client.force_login(member)

    response = client.get("/privacy/my-data/export.json")

    assert response.status_code == 200
    factors = json.loads(response.content)["account"]["second_factors"]
    assert factors == [
        {"type": "totp", "created_at": totp.created_at.isoformat(), "last_used_at": None},
        {"type": "recovery_codes", "created_at": codes.created_at.isoformat(), "last_used_at": None},
    ]
    text = response.content.decode()
    for secret in ("TOTPSEED4242", "recovery-seed-4242", "kim's key", "webauthn"):
        assert secret not in text, secret
