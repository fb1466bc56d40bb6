"""A GET of any of Speakout's public addresses writes nothing: no row, no file.

Mail scanners and link previewers open the links in a mail before the person does, and a page on
another site can make a reader's browser load any address: a confirmation, an unsubscribe or a
"manage my replies" link that acted on GET would act for them. Every route comes from the URL
configuration; each id in a path is tried with each sample's, and each token with a real token of
every kind (a confirmation, an unsubscribe link, the stop-everything link, a manage link), for a
guest and for a signed-in writer.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import get_resolver

from speakout.discussion.models import Reply
from speakout.privacy import tokens as privacy_tokens
from speakout.privacy.models import ManageRequest
from speakout.publishing.discussion import thread_for_report
from speakout.subscriptions import tokens as subscription_tokens
from tests.discussion.helpers import add_reply
from tests.security.routes import files_in_data_folders, routes, writes_in

pytestmark = pytest.mark.django_db

# Not walked here, and why.
SKIPPED = {
    "media/<path:path>": "files: the served-files tests (test_served_files.py)",
}
WRITER = "robin@example.org"


@pytest.fixture
def samples(own_data_folders, site_builder, subscribe, django_user_model):
    report = site_builder.report("A report")
    thread = thread_for_report(report)
    writer = django_user_model.objects.create_user("robin", WRITER, "a long passphrase 42")
    guest_reply = add_reply(thread, "A guest's reply.", name="Robin")
    own_reply = add_reply(thread, "An account's reply.", name="Robin", user=writer)
    held = add_reply(thread, "Held.", name="Robin", status=Reply.Status.PENDING)
    waiting = subscribe(WRITER, thread=thread, confirmed=False)
    confirmed = subscribe(WRITER)
    manage = ManageRequest.objects.create(email=WRITER)
    values = {
        "int": [str(pk) for pk in (guest_reply.pk, own_reply.pk, held.pk, writer.pk)],
        "str": [
            subscription_tokens.make_token(waiting, subscription_tokens.CONFIRM),
            subscription_tokens.make_token(confirmed, subscription_tokens.UNSUBSCRIBE),
            subscription_tokens.make_address_token(WRITER),
            privacy_tokens.make_token(manage),
            thread.key,
            guest_reply.avatar_key or "x",
            "rss",
            "atom",
        ],
        "slug": ["x"],
    }
    return {"values": values, "writer": writer, "pages": [report.url, site_builder.home.url]}


def _addresses(route: str, values: dict[str, list[str]]) -> list[str]:
    addresses = ["/" + route]
    for converter, name in re.findall(r"<(?:(\w+):)?(\w+)>", route):
        placeholder = f"<{converter}:{name}>" if converter else f"<{name}>"
        addresses = [
            address.replace(placeholder, value, 1)
            for address in addresses
            for value in values.get(converter or "str", ["x"])
        ]
    return addresses


def _public_routes() -> list[str]:
    found = []
    for route, pattern in routes(get_resolver().url_patterns):
        view = getattr(pattern.callback, "view_class", pattern.callback)
        if (
            not route.startswith(("admin/", "<language>/"))
            and view.__module__.startswith("speakout.")
            and route not in SKIPPED
        ):
            found.append(route)
    return found


@pytest.mark.parametrize("signed_in", [False, True], ids=["guest", "signed-in writer"])
def test_every_public_address_of_ours_writes_nothing_on_get(client, samples, signed_in):
    if signed_in:
        client.force_login(samples["writer"])
    client.get("/")  # the visit's own writes happen here
    addresses = [address for route in _public_routes() for address in _addresses(route, samples["values"])]
    addresses += samples["pages"]
    assert len(addresses) > 80  # the routes were found
    answered = 0
    for address in addresses:
        files = files_in_data_folders()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(address)
        writes = writes_in(queries)
        assert not writes, f"GET {address} wrote: {writes}"
        assert files_in_data_folders() == files, f"GET {address} changed files"
        answered += response.status_code == 200
    assert answered > 20  # the samples reached the views, not only their 404s


# allauth notes when a person last looked at their own recovery codes (shown only after they gave
# their password again): the one write of its screens on GET.
SEEN_CODES = dict.fromkeys(
    ["/accounts/2fa/recovery-codes/", "/accounts/2fa/recovery-codes/download/"], 'UPDATE "mfa_authenticator" SET'
)


def _allauth_addresses(values: dict[str, list[str]]) -> list[str]:
    """Every address of allauth's screens, its path parameters (some routes are regular
    expressions) filled in with each sample."""
    addresses = []
    for route, pattern in routes(get_resolver().url_patterns):
        view = getattr(pattern.callback, "view_class", pattern.callback)
        if not view.__module__.startswith("allauth."):
            continue
        found = [route.replace("^", "").replace("$", "")]
        for name in re.findall(r"\(\?P<(\w+)>", route) + [
            name for _c, name in re.findall(r"<(?:(\w+):)?(\w+)>", route)
        ]:
            found = [
                re.sub(rf"\(\?P<{name}>[^)]*\)|<(?:\w+:)?{name}>", value, address, count=1)
                for address in found
                for value in values.get(name, ["x"])
            ]
        addresses += ["/" + address for address in found]
    return addresses


@pytest.mark.parametrize(
    "signed_in", ["", "password", "second factors"], ids=["guest", "signed-in writer", "writer with second factors"]
)
def test_every_account_screen_writes_nothing_on_get(client, samples, signed_in):
    """allauth's screens too: a confirmation or reset link opened by a mail scanner, or a
    provider's login address loaded by another site's page, must not act; and every screen
    answers (the list of security keys once failed on a template library not installed)."""
    from allauth.account.models import EmailAddress, EmailConfirmationHMAC
    from allauth.account.utils import user_pk_to_url_str
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.contrib.auth.tokens import default_token_generator

    writer = samples["writer"]
    email_address = EmailAddress.objects.create(user=writer, email=WRITER, primary=True, verified=False)
    values = {
        "key": [EmailConfirmationHMAC(email_address).key, default_token_generator.make_token(writer)],
        "uidb36": [user_pk_to_url_str(writer)],
        "pk": ["1"],
        "provider_id": ["x"],
    }
    if signed_in:
        client.force_login(writer)
    if signed_in == "second factors":
        TOTP.activate(writer, generate_totp_secret())
        RecoveryCodes.activate(writer)
        # The password given again a moment ago, so the second-factor screens show rather than ask for it.
        client.post("/accounts/reauthenticate/", {"password": "a long passphrase 42"})
    client.get("/")
    addresses = _allauth_addresses(values)
    assert len(addresses) > 40  # the routes were found
    statuses = {}
    for address in addresses:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(address)
        writes = [sql for sql in writes_in(queries) if not sql.startswith(SEEN_CODES.get(address, "-"))]
        assert not writes, f"GET {address} wrote: {writes}"
        assert response.status_code < 500, f"GET {address} answered {response.status_code}"
        statuses[address] = response.status_code
    if signed_in:
        assert statuses["/accounts/2fa/webauthn/"] == 200
    if signed_in == "second factors":  # the screens that show what was set up
        assert statuses["/accounts/2fa/"] == statuses["/accounts/2fa/recovery-codes/"] == 200
    answered = sum(status == 200 for status in statuses.values())
    email_address.refresh_from_db()
    assert not email_address.verified  # the confirmation link, opened, confirmed nothing
    writer.refresh_from_db()
    assert writer.check_password("a long passphrase 42")  # the reset link, opened, reset nothing
    assert answered > 10  # the samples reached the views, not only their 404s
