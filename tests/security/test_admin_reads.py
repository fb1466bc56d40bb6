"""A GET of any of Speakout's admin screens writes nothing: no row, no file.

A staff member's browser loads addresses it was never asked to (an image on another site, a link
prefetcher, a mail scanner following a link), so a screen that changed something on GET (a
contact message marked read, export checks deleted) could be driven by a stranger. The routes
come from the URL configuration; every id in a path is tried with the id of each sample object,
so a new screen is covered without editing this file.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import get_resolver

from speakout.contact.models import ContactMessage
from speakout.discussion.models import Reply
from speakout.discussion.services import flag_reply
from speakout.federation import keys
from speakout.identity.models import PseudonymAccount
from speakout.interchange.models import ImportRun
from speakout.publishing.discussion import thread_for_report
from speakout.safety.evidence import hold_reply
from tests.discussion.helpers import add_reply
from tests.security.routes import files_in_data_folders, routes, writes_in

pytestmark = pytest.mark.django_db

PATH_VALUES = {"slug": ["pending", "approved", "reported", "spam", "trash"], "str": ["wxr", "json"]}
# Screens that are not Speakout's data: signing in and resetting a password write by design.
SKIPPED = {"admin/login/", "admin/password_reset/"}


def _our_admin_routes() -> list[str]:
    found = []
    for route, pattern in routes(get_resolver().url_patterns):
        view = getattr(pattern.callback, "view_class", pattern.callback)
        if route.startswith("admin/") and view.__module__.startswith("speakout.") and route not in SKIPPED:
            found.append(route)
    return found


def _addresses(route: str, ids: list[int]) -> list[str]:
    addresses = ["/" + route]
    for converter, name in re.findall(r"<(?:(\w+):)?(\w+)>", route):
        placeholder = f"<{converter}:{name}>" if converter else f"<{name}>"
        values = [str(pk) for pk in ids] if converter == "int" or name == "pk" else PATH_VALUES.get(converter, ["x"])
        addresses = [address.replace(placeholder, value, 1) for address in addresses for value in values]
    return addresses


@pytest.fixture
def samples(own_data_folders, site_builder, admin_user):
    """One of everything an admin screen shows, in every state it shows differently."""
    report = site_builder.report("A report")
    thread = thread_for_report(report)
    approved = add_reply(thread, "Published.")
    flag_reply(add_reply(thread, "Reported."), "abuse")
    held = add_reply(thread, "Held.", name="Sam", status=Reply.Status.PENDING)
    add_reply(thread, "Spam.", name="Kim", status=Reply.Status.SPAM)
    add_reply(thread, "Trash.", name="Lee", status=Reply.Status.TRASH)
    hold = hold_reply(approved, actor=admin_user, reason="For the lawyer")
    message = ContactMessage.objects.create(name="Ada", email="ada@example.net", message="Unread.")
    run = ImportRun.objects.create(original_name="export.xml", format="wxr")
    pseudonym = PseudonymAccount.objects.create(user=type(admin_user).objects.create_user("pseudonym-1"))
    keys.current()  # the site's Fediverse key, made on first use by any Fediverse request
    return sorted(
        {report.pk, approved.pk, held.pk, approved.commenter_id, held.commenter_id, hold.pk, message.pk, run.pk}
        | {pseudonym.pk}
    )


def test_every_admin_screen_of_ours_writes_nothing_on_get(client, admin_user, samples):
    client.force_login(admin_user)
    client.get("/admin/")  # the visit's own writes (the session, Wagtail's profile) happen here
    addresses = [address for route in _our_admin_routes() for address in _addresses(route, samples)]
    assert len(addresses) > 30  # the routes were found
    answered = 0
    for address in addresses:
        files = files_in_data_folders()
        unread = ContactMessage.objects.filter(read_at__isnull=True).count()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(address)
        writes = writes_in(queries)
        assert not writes, f"GET {address} wrote: {writes}"
        assert files_in_data_folders() == files, f"GET {address} changed files"
        assert ContactMessage.objects.filter(read_at__isnull=True).count() == unread, address
        answered += response.status_code == 200
    assert answered > 15  # the sample ids reached the screens, not only their 404s


# Wagtail's own check that its error page works: it raises on purpose.
RAISES_ON_PURPOSE = {"admin/failwhale/"}


def test_every_admin_screen_answers_without_a_server_error(client, admin_user, site_builder, settings, tmp_path):
    """Wagtail's screens too, with this site's hooks, menus, page types and settings in them:
    each route of the admin, with the id of a report, its revision, a picture, a document, a user
    and a collection, answers without a server error."""
    from django.core.files.base import ContentFile
    from wagtail.documents import get_document_model
    from wagtail.images import get_image_model
    from wagtail.models import Collection

    from tests.interchange.helpers import picture

    settings.MEDIA_ROOT = str(tmp_path)
    report = site_builder.report("A report")
    add_reply(thread_for_report(report), "A reply.")
    image = get_image_model().objects.create(title="A picture", file=ContentFile(picture("PNG"), name="p.png"))
    document = get_document_model().objects.create(title="Minutes", file=ContentFile(b"minutes", name="m.txt"))
    root = Collection.get_first_root_node()
    ids = sorted({report.pk, report.latest_revision_id, image.pk, document.pk, admin_user.pk, root.pk})
    client.force_login(admin_user)
    failures, tried = [], 0
    for route, _pattern in routes(get_resolver().url_patterns):
        if not route.startswith("admin/") or "(?P<" in route or route in SKIPPED | RAISES_ON_PURPOSE:
            continue
        for address in _addresses(route, ids):
            tried += 1
            status = client.get(address).status_code
            if status >= 500:
                failures.append(f"{address}: {status}")
    assert tried > 400  # the routes were found
    assert not failures
