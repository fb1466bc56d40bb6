"""The site's JSON export leaves the server (a laptop, a new host, a volunteer's mail): it carries
the site's content and its people's records, but nothing that turns a stored hash back into where
someone wrote from, and no key that lets its holder act as the site."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import re

import pytest
from django.test import Client

from speakout.contact.models import ContactMessage
from speakout.discussion.clients import client_hashes_for_ip
from speakout.discussion.models import BannedClient, ClientKey
from speakout.federation import keys
from speakout.interchange.json_export import export_json
from speakout.privacy import services as privacy
from speakout.subscriptions.models import Subscription

# The network a person at risk wrote from: their /24 is all the hash holds, and 2**24 guesses
# take seconds once the key is known.
NETWORK = "203.0.113.0"


def _export() -> tuple[str, dict]:
    out = io.StringIO()
    export_json(out)
    return out.getvalue(), json.loads(out.getvalue())


@pytest.mark.django_db
def test_a_contact_message_in_the_export_cannot_be_tied_to_the_network_it_came_from(site_builder):
    """Neither the client hash keys nor the hashes they made are written: with both, trying each
    network against a message's hash names the one its writer used."""
    written_from = client_hashes_for_ip("203.0.113.77")[0]
    ContactMessage.objects.create(
        name="Sam", email="sam@example.org", message="They followed me.", client_hash=written_from
    )
    BannedClient.objects.create(client_hash=written_from, reason="flooding")
    text, data = _export()
    exported_keys = [
        row["fields"]["secret"] for row in data["other"] if row["model"] == "speakout_discussion.clientkey"
    ]
    exported_hashes = [
        row["fields"].get("client_hash", "")
        for row in data["other"]
        if row["model"] in ("speakout_contact.contactmessage", "speakout_discussion.bannedclient")
    ]
    recovered = [
        secret
        for secret in exported_keys
        if hmac.new(bytes.fromhex(secret), NETWORK.encode(), hashlib.sha256).hexdigest() in exported_hashes
    ]
    assert recovered == []
    assert written_from not in text
    for secret in ClientKey.objects.values_list("secret", flat=True):
        assert secret not in text
    # The message itself and the ban's reason are still there: nothing else is lost.
    assert any(row["fields"].get("message") == "They followed me." for row in data["other"])
    assert any(row["fields"].get("reason") == "flooding" for row in data["other"])


@pytest.mark.django_db
def test_the_export_holds_no_private_key_of_the_sites_fediverse_actor(site_builder):
    """Whoever holds the private key signs activities as the site; its public half may go."""
    key = keys.current()
    text, data = _export()
    assert key.private_pem.strip() not in text
    assert "PRIVATE KEY" not in text
    exported = [row for row in data["other"] if row["model"] == "speakout_federation.actorkey"]
    assert [row["fields"]["public_pem"] for row in exported] == [key.public_pem]


@pytest.mark.django_db
def test_the_export_hands_on_no_working_link_from_a_mail(site_builder, settings):
    """The outbox keeps mails a while, and a "manage my replies" mail holds a link that opens the
    person's page (their address, their replies to edit or delete, their data to download). The
    export keeps each mail's addressee, subject and status, not its body."""
    settings.BASE_URL = "http://testserver"
    Subscription.objects.create(email="sam@example.org", kind=Subscription.Kind.POSTS)
    privacy.send_manage_link(privacy.request_manage_link("sam@example.org").pk)
    text, data = _export()
    links = re.findall(r"http://testserver(/privacy/my-replies/[^/\\\s\"]+/)", text)
    opened = [link for link in links if Client().get(link).status_code == 200]
    assert opened == []
    mails = [row["fields"] for row in data["other"] if row["model"] == "speakout_outbox.outgoingmail"]
    assert [mail["to"] for mail in mails] == ["sam@example.org"]
