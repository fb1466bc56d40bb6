"""The privacy page states the numbers of the running settings, and every page links to it."""

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db


def test_privacy_page_states_the_settings_in_force(client):
    html = client.get("/privacy/").content.decode()
    for fact in (
        "The hash is cleared after 30 days",
        "changes every 7 days",
        "ever looks at are deleted after 90 days",
        "a copy of a sent mail is deleted after 30 days",
        "an unconfirmed request is deleted after 7 days",
        "an ended subscription is deleted after 90 days",
        "valid for 24 hours",
        "your address is deleted within 7 days",
        "<code>speakout_guest</code>",
        "<code>csrftoken</code>",
        "<code>sessionid</code>",
        "<code>django_language</code>",
        "<code>messages</code>",
    ):
        assert fact in html, fact


@override_settings(
    SPEAKOUT_DISCUSSION_CLIENT_HASH_DAYS=12,
    SPEAKOUT_DISCUSSION_CLIENT_KEY_DAYS=1,
    SPEAKOUT_PRIVACY_HELD_REPLY_DAYS=45,
    SPEAKOUT_PRIVACY_SENT_MAIL_DAYS=3,
    SPEAKOUT_PRIVACY_LINK_MAX_AGE=3600,
    SESSION_COOKIE_NAME="so_session",
)
def test_changing_the_settings_changes_the_page(client):
    html = client.get("/privacy/").content.decode()
    assert "The hash is cleared after 12 days" in html
    assert "changes every 1 day," in html
    assert "ever looks at are deleted after 45 days" in html
    assert "a copy of a sent mail is deleted after 3 days" in html
    assert "valid for 1 hour," in html
    assert "<code>so_session</code>" in html
    assert "after 30 days" not in html


def test_privacy_page_is_in_spanish_too(client):
    html = client.get("/privacy/", headers={"Accept-Language": "es"}).content.decode()
    assert 'lang="es"' in html
    assert "30 días" in html


def test_every_site_page_links_to_privacy_and_manage_my_replies(client, site_builder):
    html = client.get("/").content.decode()
    assert 'href="/privacy/"' in html
    assert 'href="/privacy/my-replies/"' in html


def test_the_page_names_everything_forget_me_keeps(client):
    """What outlives "forget me" (tests/privacy/test_erasure.py's exceptions: contact messages and
    their mail to staff, a suppression, a reply held as evidence) is said beside the promise."""
    html = client.get("/privacy/").content.decode()
    kept = html.split("your address is deleted within 7 days", 1)[1]
    for thing in (
        "the messages you sent through a contact page, until our staff delete them",
        "the note that we must never mail it again",
        "a reply of yours that our moderators hold as evidence of a threat, with your details, until they release it",
    ):
        assert thing in kept, thing


@pytest.fixture
def federated(db):
    from speakout.federation.models import FederationSettings

    config = FederationSettings.load()
    config.enabled = True
    config.save()
    return config


def test_with_the_fediverse_on_the_page_says_what_is_kept_of_a_remote_reply(client, federated, settings):
    """What a reply from another server leaves here, how its deletion there removes it, what the
    tombstone keeps and for how long (the setting's number), and whether replies made here go out."""
    settings.SPEAKOUT_FEDERATION_TOMBSTONE_RETENTION_DAYS = 12
    settings.SPEAKOUT_FEDERATION_LOG_RETENTION_DAYS = 5
    settings.SPEAKOUT_FEDERATION_KEY_CACHE_SECONDS = 6 * 3600
    html = client.get("/privacy/").content.decode()
    for fact in (
        "Replies from the Fediverse",
        "its text, when it was written and last edited",
        "name, handle, profile link and picture",
        "your server tells us and we delete the reply",
        "a one-way hash of the post's and your account's addresses for 12 days",
        "the same happens when our moderators delete it",
        "for 5 days, never its content",
        "we delete your account's details within 7 hours",
        "Replies written on this site are not sent to other servers.",
    ):
        assert fact in html, fact
    federated.federate_member_replies = True
    federated.save()
    html = client.get("/privacy/").content.decode()
    assert "Replies written on this site are not sent" not in html
    assert "tick “Also post this reply to the Fediverse”" in html


def test_without_the_fediverse_the_page_says_nothing_of_it(client):
    assert "Fediverse" not in client.get("/privacy/").content.decode()
