"""A typed name or email is a claim, not an identity (DESIGN.md "trust follows proof").

Each attack here is played over HTTP through every front end that takes a reply (the HTML form,
the JSON API, the embed API and the Isso API): an attacker who knows or guesses someone's address
must learn nothing from the answers (whether that address wrote a reply, or has written here at
all), must get no public identifier derived from it (avatar, Isso hash), must not inherit its
trust (skip moderation) or reach its record (the "manage my replies" page), and every refusal
that could be used to guess (personal data, protected or staff names) spends the rate limit.
"""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from speakout.discussion import services
from speakout.discussion.clients import sign_guest_token
from speakout.discussion.forms import issue_form_token
from speakout.discussion.models import Commenter, DiscussionSettings, Reply, Thread
from speakout.privacy import tokens
from speakout.privacy.models import ManageRequest
from speakout.safety.models import SafetySettings
from tests.security.claims import FRONT_ENDS, KEY, SITE, Answer, fresh_client, public_avatar, send

pytestmark = pytest.mark.django_db

VICTIM = "alice@example.org"
VICTIM_TOKEN = "victim-guest-token"


def victim_reply(thread: Thread, body: str = "I was there on Tuesday and saw it all.") -> Reply:
    """A published reply by a commenter whose earlier reply a moderator approved (trusted)."""
    author = services.Author(guest_token=VICTIM_TOKEN, client_hash="victim-client")
    first = services.submit_reply(
        thread=thread,
        data={"thread": thread.key, "name": "Alice", "email": VICTIM, "body": "My first reply."},
        author=author,
        check_form_token=False,
    )
    services.set_status(first.reply, Reply.Status.APPROVED)
    result = services.submit_reply(
        thread=thread,
        data={"thread": thread.key, "name": "Alice", "email": VICTIM, "body": body},
        author=author,
        check_form_token=False,
    )
    assert result.outcome == services.PUBLISHED, "a commenter approved once is trusted"
    return result.reply


def comparable(answer: Answer) -> tuple:
    return (answer.status, answer.outcome, answer.code)


# Row 3: "did email X write public reply N?" -------------------------------------------------


@pytest.mark.parametrize("front", FRONT_ENDS)
def test_the_duplicate_check_does_not_tell_who_wrote_a_public_reply(front, site):
    reply = victim_reply(site)
    wrong_guess = send(front, fresh_client(), name="Guess", email="bob@example.net", body=reply.body)
    right_guess = send(front, fresh_client(), name="Guess", email=VICTIM, body=reply.body)
    assert comparable(right_guess) == comparable(wrong_guess), "the answer tells whether the address wrote it"
    assert right_guess.code != "duplicate"


@pytest.mark.parametrize("front", FRONT_ENDS)
def test_the_duplicate_check_does_not_tell_that_a_public_reply_came_from_one_s_own_network(front, site):
    """A household or an office shares one address, so one client hash: keyed on it, the answer
    would tell anyone there who copies a public reply's text that it was written from there."""
    writer = Client(HTTP_ORIGIN=SITE, REMOTE_ADDR="203.0.113.5")
    written = send(front, writer, name="Kit", body="Written at home, under a pseudonym.")
    services.set_status(Reply.objects.get(pk=written.reply_id), Reply.Status.APPROVED)

    same_network = send(front, Client(HTTP_ORIGIN=SITE, REMOTE_ADDR="203.0.113.77"), body=written_body(written))
    elsewhere = send(front, fresh_client(), body=written_body(written))
    assert comparable(same_network) == comparable(elsewhere), "the answer tells where the reply was written"
    assert same_network.code != "duplicate"


def written_body(answer: Answer) -> str:
    return Reply.objects.get(pk=answer.reply_id).body


@pytest.mark.parametrize("front", FRONT_ENDS)
def test_the_duplicate_check_still_stops_the_same_writer_posting_twice(front, site):
    client = fresh_client()
    first = send(front, client, body="Only once, please.")
    assert first.outcome in ("published", "held")
    again = send(front, client, guest=first.guest_token, body="Only once, please.")
    assert again.outcome == "rejected", "the same browser sending the same text again is a duplicate"


def _refused_guesses(front, make_fields, attempts=30):
    client = fresh_client()
    answers = [send(front, client, **make_fields(number)) for number in range(attempts)]
    return client, answers


@pytest.mark.parametrize("front", FRONT_ENDS)
def test_refusals_by_the_personal_data_guard_spend_the_rate_limit(front, site):
    reply = victim_reply(site)
    client, answers = _refused_guesses(
        front, lambda n: {"name": "call 0044 20 7946 0958", "email": f"guess{n}@example.net", "body": reply.body}
    )
    assert answers[0].outcome == "rejected" and answers[0].code != "rate_limit"
    assert any(answer.code == "rate_limit" for answer in answers), "refusals must count towards the limits"
    # And once spent, the limit holds for every attempt of that client, refused or not.
    assert send(front, client, body="Something else entirely.").code == "rate_limit"


# Row 4: no public identifier derived from a typed address ---------------------------------------


@pytest.mark.parametrize("front", FRONT_ENDS)
def test_a_typed_address_does_not_give_its_owner_s_avatar(front, site):
    reply = victim_reply(site)
    victims_avatar = public_avatar(front, reply)
    claim = send(front, fresh_client(), name="Someone", email=VICTIM, body="Not Alice at all.")
    assert claim.outcome in ("published", "held")
    assert claim.avatar and claim.avatar != victims_avatar
    rules = DiscussionSettings.load()
    rules.block_words = "cheap pills"
    rules.save()
    spam = send(front, fresh_client(), name="Bot", email=VICTIM, body="Cheap pills here.")
    assert spam.outcome in ("published", "held")
    assert spam.avatar != victims_avatar, "a reply filed as spam links to Alice's replies"
    assert Reply.objects.get(pk=spam.reply_id).status == Reply.Status.SPAM
    # Approved later by a moderator, the impersonation still does not wear Alice's avatar.
    services.set_status(Reply.objects.get(pk=claim.reply_id), Reply.Status.APPROVED)
    assert public_avatar(front, Reply.objects.get(pk=claim.reply_id)) != victims_avatar


@pytest.mark.parametrize("front", ["form", "api", "embed"])
def test_a_proven_writer_keeps_one_avatar(front, site):
    reply = victim_reply(site)
    proof = sign_guest_token(VICTIM_TOKEN)
    client = fresh_client()
    if front == "form":
        client.cookies["speakout_guest"] = proof
    again = send(front, client, guest=proof, name="Alice", email=VICTIM, body="Alice again, same browser.")
    assert again.outcome == "published", "trust follows the guest token"
    assert again.avatar == reply.avatar_key
    assert Reply.objects.get(pk=again.reply_id).commenter_id == reply.commenter_id


# An address's recent use: the rate limits answer by proof, never by a typed address ------------


@pytest.mark.parametrize("front", FRONT_ENDS)
def test_the_rate_limit_does_not_tell_whether_an_address_just_wrote(front, site, settings):
    """Paused or counted by a typed address, a stranger typing it would be refused as "too fast"
    right after its owner wrote (and the owner after the stranger): an oracle of who wrote the
    reply that just appeared, and a way to silence someone by typing their address."""
    settings.SPEAKOUT_DISCUSSION_SECONDS_BETWEEN_REPLIES = 60
    settings.SPEAKOUT_DISCUSSION_BURST_LIMIT = (1, 600)
    cache.clear()
    victim_wrote = send(front, fresh_client(), name="Alice", email=VICTIM, body="Alice, just now.")
    assert victim_wrote.outcome in ("published", "held")

    right_guess = send(front, fresh_client(), name="Guess", email=VICTIM, body="Was it you?")
    wrong_guess = send(front, fresh_client(), name="Guess", email="bob@example.net", body="Or you?")
    assert comparable(right_guess) == comparable(wrong_guess), "the answer tells whether the address just wrote"
    assert right_guess.code != "rate_limit"


# Row 5: a known commenter's address earns nothing --------------------------------------------


@pytest.mark.parametrize("front", FRONT_ENDS)
def test_a_known_commenter_s_address_is_held_filed_apart_and_answers_like_a_new_writer(front, site, client):
    reply = victim_reply(site)
    rules = DiscussionSettings.load()
    assert rules.hold_first_reply
    victim = reply.commenter
    approved_before = Commenter.objects.get(pk=victim.pk).approved_count

    claim = send(front, fresh_client(), name="Alice", email=VICTIM, body="Alice says: believe me.")
    newcomer = send(front, fresh_client(), name="Alice", email="never-seen@example.net", body="Hello, new here.")
    assert claim.outcome == "held", "a typed address skipped moderation"
    assert comparable(claim) == comparable(newcomer), "the answer tells whether the address has commented here"

    stored = Reply.objects.get(pk=claim.reply_id)
    assert stored.commenter_id != victim.pk, "the reply was filed under Alice's record"
    assert Commenter.objects.get(pk=victim.pk).approved_count == approved_before

    # Alice's "manage my replies" link (proof of her address) shows her replies, not the claim.
    link = tokens.make_token(ManageRequest.objects.create(email=VICTIM))
    page = client.get(f"/privacy/my-replies/{link}/").content.decode()
    assert reply.body in page
    assert "Alice says: believe me." not in page


def post_signed_in(client: Client, email: str, *, verified: bool, body: str) -> dict:
    """Sign in as a new account with ``email`` (verified or not) and post through the form."""
    from allauth.account.models import EmailAddress

    user = get_user_model().objects.create_user(email.split("@")[0], email, "pw-long-enough-1")
    EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)
    client.force_login(user)
    token = issue_form_token(KEY, issued_at=time.time() - 10)
    data = {"thread": KEY, "body": body, "form_token": token}
    return client.post("/discussion/post/", data, headers={"Accept": "application/json"}).json()


@pytest.mark.parametrize("spelling", ["ALICE@example.org", "Alice@Example.ORG", " alice@example.org "])
def test_another_spelling_of_a_known_address_earns_nothing_either(spelling, site, client):
    reply = victim_reply(site)
    claim = send("api", fresh_client(), name="Alice", email=spelling, body="Spelt my way.")
    assert claim.outcome == "held"
    assert Reply.objects.get(pk=claim.reply_id).commenter_id != reply.commenter_id
    link = tokens.make_token(ManageRequest.objects.create(email=VICTIM))
    assert "Spelt my way." not in client.get(f"/privacy/my-replies/{link}/").content.decode()


def test_an_imported_commenter_s_address_earns_nothing_but_their_verified_account_does(site, client):
    """Imported replies carry an address nobody proved here: typing it is a claim like any other.
    A site account with that address verified (by allauth's mailed link) is the proof."""
    imported = Commenter.objects.create(
        email="archive@example.org",
        address_proof=Commenter.AddressProof.IMPORTED,
        display_name="Archived",
        approved_count=3,
    )
    Reply.objects.create(
        thread=site, commenter=imported, author_name="Archived", body="From the old blog.", status="approved"
    )
    claim = send("api", fresh_client(), name="Archived", email="archive@example.org", body="I am back!")
    assert claim.outcome == "held"
    assert Reply.objects.get(pk=claim.reply_id).commenter_id != imported.pk

    answer = post_signed_in(client, "archive@example.org", verified=True, body="Signed in with my verified address.")
    assert answer["outcome"] == "published"
    assert Reply.objects.get(pk=answer["id"]).commenter_id == imported.pk


def test_an_account_with_an_unverified_address_does_not_take_over_a_guest_s_replies(site, client):
    """A login provider that does not verify addresses (or a site account before its mailed
    link is clicked) gives an address nobody proved: it must not reach the guest's record."""
    reply = victim_reply(site)
    answer = post_signed_in(client, VICTIM, verified=False, body="Signed in with an address I never proved.")
    assert answer["outcome"] == "held"
    victim = Commenter.objects.get(pk=reply.commenter_id)
    assert victim.user_id is None, "the account took over the guest's record"
    assert Reply.objects.get(pk=answer["id"]).commenter_id != victim.pk
    page = client.get("/privacy/my-data/").content.decode()
    assert reply.body not in page


# Row 6 and row 16: refusals that name no one and spend the limit -------------------------------


@pytest.mark.parametrize("front", FRONT_ENDS)
def test_the_protected_names_refusal_names_no_one_and_spends_the_limit(front, site):
    safety = SafetySettings.load()
    safety.protected_names = "María José Pérez"
    safety.personal_data_guard = True
    safety.save()
    refused = send(front, fresh_client(), body="I know maria jose perez from work.")
    assert refused.outcome == "rejected"
    assert "rez" not in refused.message.lower(), refused.message
    assert "María" not in refused.message and "maria" not in refused.message.lower()
    client, answers = _refused_guesses(front, lambda n: {"body": f"Is it maria jose perez{'?' * (n + 1)}"})
    assert any(answer.code == "rate_limit" for answer in answers), "refusals must count towards the limits"


@pytest.mark.parametrize("front", FRONT_ENDS)
def test_the_staff_names_refusal_does_not_say_whose_name_it_is_and_spends_the_limit(front, site):
    get_user_model().objects.create_user("dana", "dana@example.org", "x", is_staff=True, first_name="Dana")
    refused = send(front, fresh_client(), name="Dana")
    assert refused.outcome == "rejected"
    assert "staff" not in refused.message.lower(), refused.message
    client, answers = _refused_guesses(front, lambda n: {"name": "DANA" if n % 2 else "dana"})
    assert any(answer.code == "rate_limit" for answer in answers), "refusals must count towards the limits"


def test_the_pseudonym_sign_up_does_not_say_a_name_is_a_staff_member_s(client):
    """A pseudonym refused for being a staff member's name (their username or full name) gets
    the reply form's words: saying "the site's staff" would confirm who works here."""
    get_user_model().objects.create_user(
        "dana", "dana@example.org", "x", is_staff=True, first_name="Dana", last_name="Lind"
    )
    response = client.post(reverse("identity:pseudonym"), {"username": "Dana Lind", "email": "guess@example.net"})
    page = response.content.decode()
    assert "That name cannot be used here." in page, page
    assert "staff" not in page.lower()


def test_sign_up_does_not_say_a_username_exists_and_refusals_spend_the_limit(client, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "signup": "3/m/ip"}
    cache.clear()
    get_user_model().objects.create_user("kestrel", "kestrel@example.org", "pw-long-enough-1")

    def sign_up(username):
        return client.post(
            "/accounts/signup/",
            {
                "username": username,
                "email": f"{username}-other@example.org",
                "password1": "a-long-pass-phrase-9",
                "password2": "a-long-pass-phrase-9",
            },
        )

    response = sign_up("kestrel")
    page = response.content.decode()
    assert response.status_code == 200
    assert "cannot be used" in page
    assert "already exists" not in page and "already taken" not in page
    assert [sign_up(name).status_code for name in ("osprey", "merlin", "hobby")][-1] == 429
