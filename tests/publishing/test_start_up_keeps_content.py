"""Nothing that runs on start-up deletes or replaces content it did not create.

``speakout run`` (and ``make run``) set the site up before serving: migrate, point the default
site at the public address, load the demo content, make sure an admin exists. Each test here
runs those same steps (``speakout.cli.setup``) against a site that already holds content and
finds every page, reply and redirect still there, at the same address.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from wagtail.contrib.redirects.models import Redirect
from wagtail.models import Page, Site

from speakout import cli
from speakout.discussion.models import Reply
from speakout.interchange.importers import run_import
from speakout.publishing.demo import load_demo_content
from speakout.publishing.home import HomePageRefused, content_summary, home_page
from speakout.publishing.models import HomePage, ReportPage, StandardPage

pytestmark = pytest.mark.django_db

TESTDATA = Path(__file__).resolve().parents[2].parent / "shared" / "testdata"
EXPORT = TESTDATA / "wordpress" / "themeunittestdata.wordpress.xml"
DISQUS = TESTDATA / "isso" / "disqus.xml"


def contents() -> dict:
    """Every page (id → address and type), reply and redirect, as comparable values."""
    return {
        "pages": {
            page.pk: (page.url_path, type(page.specific).__name__, page.live)
            for page in Page.objects.filter(depth__gt=1)
        },
        "replies": set(Reply.objects.values_list("pk", "thread_id", "status", "body")),
        "redirects": set(Redirect.objects.values_list("old_path", "redirect_page_id", "redirect_link")),
        "sites": set(Site.objects.values_list("pk", "root_page_id", "is_default_site")),
    }


def start_up(capsys) -> str:
    """What `speakout run` does before it serves, with the demo switched on (its default)."""
    cli.setup(load_demo=True)
    captured = capsys.readouterr()
    return captured.out + captured.err


def test_a_fresh_install_is_empty():
    assert content_summary() == {"pages": 0, "replies": 0}
    assert Page.objects.filter(depth=2).count() == 1, "Wagtail's placeholder page"


def test_demo_after_an_import_deletes_nothing(client, capsys):
    """setup --no-demo → import → run: the demo sees content, says so and changes nothing."""
    cli.setup(load_demo=False)
    result = run_import(EXPORT)
    assert result.get("report", "created") > 50 and result.get("reply", "created") == 33
    before = contents()
    assert len(before["replies"]) == 33 and len(before["redirects"]) > 200

    output = start_up(capsys)

    assert "Loaded the demo content" not in output
    assert "Demo content not loaded: the site already has content" in output
    assert "Nothing was changed" in output
    assert contents() == before
    assert not ReportPage.objects.filter(slug="peer-safety-conference-lisbon").exists()
    # The old permalink still leads to the imported report.
    old_link = Redirect.objects.filter(redirect_page__isnull=False).first()
    response = client.get(old_link.old_path, HTTP_HOST="localhost", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain, "the old address redirects"
    assert old_link.redirect_page.title.encode() in response.content or response.context


def test_import_after_the_demo_keeps_both(capsys):
    """run (demo loaded) → import: the import adds to the site and the demo stays."""
    output = start_up(capsys)
    assert "Loaded the demo content" in output
    demo = contents()

    run_import(EXPORT)
    output = start_up(capsys)

    after = contents()
    assert "Demo content not loaded: the demo content is already there" in output
    for pk, value in demo["pages"].items():
        assert after["pages"][pk] == value
    assert demo["replies"] <= after["replies"] and len(after["replies"]) == len(demo["replies"]) + 33
    assert len(after["redirects"]) > 200
    assert HomePage.objects.filter(locale__language_code="en").count() == 1, "no second home page"


def test_replies_alone_keep_the_demo_out(capsys):
    """A Disqus import brings replies without pages: the site is no longer empty."""
    cli.setup(load_demo=False)
    run_import(DISQUS)
    before = contents()
    assert before["replies"]

    output = start_up(capsys)

    assert "Demo content not loaded: the site already has content" in output
    assert contents() == before


def test_a_page_made_in_the_editor_keeps_the_demo_out(capsys):
    placeholder = Page.objects.get(depth=2)
    placeholder.add_child(instance=StandardPage(title="Our first page", slug="first"))
    before = contents()

    output = start_up(capsys)

    assert "Demo content not loaded" in output
    assert contents() == before


def test_the_demo_keeps_wagtails_placeholder_page():
    """Even the untouched "Welcome" page is not deleted: it stays under the root, off the site."""
    placeholder = Page.objects.get(depth=2)

    assert load_demo_content() is True

    assert Page.objects.filter(pk=placeholder.pk).exists()
    site = Site.objects.get(is_default_site=True)
    assert isinstance(site.root_page.specific, HomePage)
    assert load_demo_content() is False


def test_import_into_a_fresh_install_gets_a_home_page():
    """The placeholder root gives way to a home page named after the old site; kept, not deleted."""
    placeholder = Page.objects.get(depth=2)

    run_import(EXPORT)

    home = Site.objects.get(is_default_site=True).root_page.specific
    assert isinstance(home, HomePage)
    assert home.title == "Theme Unit Test Data"
    assert Page.objects.filter(pk=placeholder.pk).exists()
    assert ReportPage.objects.descendant_of(home).count() > 50


def test_a_root_of_someone_elses_making_is_never_replaced():
    """A default site whose root is a page an editor made stays as it is."""
    placeholder = Page.objects.get(depth=2)
    own = placeholder.get_parent().add_child(instance=StandardPage(title="Our own home", slug="own"))
    site = Site.objects.get(is_default_site=True)
    site.root_page = own
    site.save()

    with pytest.raises(HomePageRefused):
        home_page("Anything")
    assert load_demo_content() is False
    run_import(EXPORT)

    assert Site.objects.get(is_default_site=True).root_page_id == own.pk
    assert not HomePage.objects.exists()
    assert ReportPage.objects.descendant_of(own).count() > 50


def test_pointing_the_site_at_the_public_address_keeps_its_root(settings):
    """speakout_sync_site changes the default site's host name and port, never its root or others."""
    call_command("speakout_load_demo")
    other_root = Page.objects.get(depth=2, content_type__model="page")
    other = Site.objects.create(hostname="other.example", port=80, root_page=other_root)
    roots = set(Site.objects.values_list("pk", "root_page_id"))
    settings.BASE_URL = "https://reports.example.org"

    call_command("speakout_sync_site")

    assert set(Site.objects.values_list("pk", "root_page_id")) == roots
    default = Site.objects.get(is_default_site=True)
    assert (default.hostname, default.port) == ("reports.example.org", 443)
    other.refresh_from_db()
    assert (other.hostname, other.port) == ("other.example", 80)


def test_ensure_admin_never_touches_existing_accounts(capsys):
    from django.contrib.auth import get_user_model

    User = get_user_model()
    user = User.objects.create_user("admin", "a@example.org", "old-password-1")
    password_hash = user.password

    call_command("speakout_ensure_admin")

    user.refresh_from_db()
    assert user.password == password_hash and not user.is_superuser
    admin = User.objects.get(is_superuser=True)
    assert admin.username == "admin2"
    assert f"user:     {admin.username}" in capsys.readouterr().out
