"""Round trips: import → export WXR → import into a fresh site; backup → restore."""

from __future__ import annotations

import io
import json
import sqlite3
import uuid
from contextlib import closing

import pytest
from django.core.management import call_command
from wagtail.models import Page

from speakout.discussion.models import DiscussionSettings, ModerationLogEntry, Reply
from speakout.discussion.services import set_status
from speakout.interchange import backup
from speakout.interchange.errors import ImportFailed
from speakout.interchange.importers import run_import
from speakout.publishing.models import ReportPage, StandardPage
from tests.interchange.helpers import FIXTURES, TESTDATA, snapshot, wipe_site


@pytest.mark.parametrize(
    "source", [FIXTURES / "edge-cases.xml", TESTDATA / "wordpress" / "themeunittestdata.wordpress.xml"]
)
def test_wxr_round_trip(site, tmp_path, source):
    """Export WXR, import it into an emptied site: same reports, replies, tree and statuses."""
    run_import(source)
    before = snapshot()
    exported = tmp_path / "export.xml"
    call_command("speakout_export", "--format", "wxr", "--output", str(exported), verbosity=0)
    wipe_site(site)
    assert ReportPage.objects.count() == 0 and Reply.objects.count() == 0
    result = run_import(exported)
    assert not [why for _what, why in result.skipped if "post type" not in why]
    after = snapshot()
    assert after["replies"] == before["replies"]
    assert after["kinds"] == before["kinds"]
    assert after["pages"] == before["pages"]
    assert after["reports"] == before["reports"]


def test_wxr_export_is_what_wordpress_expects(site):
    """Version 1.2, the WordPress namespaces, CDATA bodies, statuses as WordPress writes them."""
    run_import(FIXTURES / "edge-cases.xml")
    out = io.StringIO()
    from speakout.interchange.wxr_export import export_wxr

    writer = export_wxr(out)
    text = out.getvalue()
    assert writer.items == 4 and writer.replies == 9
    assert "<wp:wxr_version>1.2</wp:wxr_version>" in text
    assert 'xmlns:wp="http://wordpress.org/export/1.2/"' in text
    assert "<wp:comment_approved>spam</wp:comment_approved>" in text
    assert "<wp:comment_type>pingback</wp:comment_type>" in text
    assert "<wp:category_parent><![CDATA[housing]]></wp:category_parent>" in text
    assert "<wp:is_sticky>1</wp:is_sticky>" in text
    assert "<wp:status><![CDATA[private]]></wp:status>" in text or "<wp:status><![CDATA[draft]]></wp:status>" in text


def test_json_export_has_everything(site, tmp_path):
    """The JSON export carries pages, threads with replies, settings and the moderation log."""
    run_import(FIXTURES / "edge-cases.xml")
    DiscussionSettings.load()
    reply = Reply.objects.get(external_id="wp:10")
    set_status(reply, Reply.Status.APPROVED, reason="imported, checked")
    path = tmp_path / "all.json"
    call_command("speakout_export", "--format", "json", "--output", str(path), verbosity=0)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == "speakout-json"
    assert {p["title"] for p in data["pages"]} >= {"Winter heating survey", "About us"}
    assert sum(len(t["replies"]) for t in data["threads"]) == Reply.objects.count()
    assert len(data["moderation_log"]) == ModerationLogEntry.objects.count() >= 1
    assert data["discussion_settings"][0]["hold_first_reply"] is True
    assert any(r["old_path"] == "/?p=101" for r in data["redirects"])


def test_json_export_leaves_out_no_column_but_those_it_names(site, tmp_path):
    """Leaving with nothing lost: every column of the discussion's rows is written (a reply's
    language, a commenter's address proof and pending erasure request...), except the few
    ``LEFT_OUT`` names with its reason, so a column added later is exported too."""
    from speakout.discussion.models import Commenter, Flag, Thread
    from speakout.discussion.services import flag_reply
    from speakout.interchange.json_export import LEFT_OUT

    run_import(FIXTURES / "edge-cases.xml")
    reply = Reply.objects.get(external_id="wp:10")
    set_status(reply, Reply.Status.APPROVED, reason="imported, checked")
    flag_reply(reply, "harassment", note="a note")
    assert Commenter.objects.exists()
    path = tmp_path / "all.json"
    call_command("speakout_export", "--format", "json", "--output", str(path), verbosity=0)
    data = json.loads(path.read_text(encoding="utf-8"))
    thread = data["threads"][0]
    written = {
        Commenter: data["commenters"][0],
        Reply: next(row for row in data["threads"] if row["replies"])["replies"][0],
        Thread: {key: value for key, value in thread.items() if key != "replies"},
        Flag: data["flags"][0],
        ModerationLogEntry: data["moderation_log"][0],
    }
    for model, row in written.items():
        every = {field.attname for field in model._meta.concrete_fields}
        assert set(row) == every - LEFT_OUT[model], model.__name__
        assert LEFT_OUT[model] <= every, model.__name__  # no stale name
    assert data["flags"][0]["reported_body"] == reply.body, "a report's text as reported goes too"


def _json_export() -> str:
    from speakout.interchange.json_export import export_json

    out = io.StringIO()
    export_json(out)
    return out.getvalue()


def test_json_export_carries_the_home_page_s_mission(site_builder):
    """docs/interchange.md: the JSON export holds "pages (with their block data) ... and every
    other row of Speakout's apps". The home page (its mission text) is a row of
    ``speakout_publishing``, which ``JSONWriter._other`` skips as "written above as pages", but
    ``_pages`` writes only reports and standard pages: the mission is in no section."""
    marker = f"mission{uuid.uuid4().hex[:8]}"
    home = site_builder.home
    home.mission = f"<p>We document {marker} evictions.</p>"
    home.save()
    assert marker in _json_export()


def test_json_export_carries_a_contact_page_s_title(site_builder):
    """A contact page is written under "other" by Django's serializer, which writes only the
    ``ContactPage`` table's own columns (intro, topics, recipients, thank-you text): its title,
    slug and place in the tree (Wagtail's page row) are in no section."""
    from speakout.contact.models import ContactPage

    marker = f"Write{uuid.uuid4().hex[:8]}"
    page = ContactPage(title=f"{marker} to the collective", slug="contact", recipients="office@example.org")
    site_builder.home.add_child(instance=page)
    text = _json_export()
    assert "office@example.org" in text, "the contact page's own row is exported"
    assert marker in text, "its title is not"


def test_json_export_writes_each_page_of_speakout_s_types_once_with_its_own_fields(site_builder):
    """Every page of a Speakout page type is one row of "pages", with the page fields and every
    column of its type's own table; none of them (nor the rows the other sections hold) is
    written again under "other"."""
    from speakout.contact.models import ContactPage
    from speakout.interchange.json_export import page_models

    site_builder.report("Housing report")
    site_builder.standard_page("About us")
    site_builder.home.add_child(instance=ContactPage(title="Contact", slug="contact", topics="Press"))
    data = json.loads(_json_export())
    types = {model._meta.label for model in page_models()}
    assert types >= {
        "speakout_publishing.HomePage",
        "speakout_publishing.ReportIndexPage",
        "speakout_publishing.ReportPage",
        "speakout_publishing.StandardPage",
        "speakout_contact.ContactPage",
    }
    pages = {row["id"]: row for row in data["pages"]}
    assert len(pages) == len(data["pages"])
    for model in page_models():
        for page in model.objects.all():
            row = pages.pop(page.pk)
            assert row["title"] == page.title and row["url_path"] == page.url_path, model.__name__
            own = {f.attname for f in model._meta.concrete_fields if f.model is not Page and not f.primary_key}
            assert own <= set(row), model.__name__
    assert pages == {}, "a page written twice or not of a Speakout type"
    assert {row["type"] for row in data["pages"]} >= {"home", "report", "page", "contact"}
    other = {row["model"] for row in data["other"]}
    assert not other & {m._meta.label_lower for m in page_models()}
    assert not other & {"speakout_publishing.author", "speakout_publishing.category"}


@pytest.mark.django_db(transaction=True)
def test_backup_and_restore(site_builder_transactional, tmp_path, settings):
    """A backup restored into an emptied instance gives the same counts and row checksums."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    from tests.helpers import make_image

    make_image("Boiler room")
    run_import(FIXTURES / "edge-cases.xml")
    # A report with a French translation: the translation and its link to the original survive.
    builder = site_builder_transactional
    original = builder.report("Housing report")
    builder.translate(builder.home, "fr", title="Accueil")
    builder.translate(builder.index, "fr", title="Rapports")
    french = builder.translate(original, "fr", title="Rapport sur le logement")
    archive = backup.backup(tmp_path / "site.tar.gz")
    manifest = backup.read_manifest(archive)
    assert manifest["tables"]["speakout_discussion.Reply"]["count"] == 9
    assert any(name.startswith("media/original_images/") for name in manifest["files"])
    with pytest.raises(ImportFailed, match="already has content"):
        backup.restore(archive)
    # An empty instance: the content is gone (and the media files with it).
    Reply.objects.all().delete()
    for page in ReportPage.objects.all():
        page.delete()
    StandardPage.objects.all().delete()
    for path in (tmp_path / "media").rglob("*"):
        if path.is_file():
            path.unlink()
    restored = backup.restore(archive, force=True)
    assert backup.table_summary() == restored["tables"]
    assert restored["brought_up_to_date"] is False, "the same version: every row checksum compared"
    assert Reply.objects.count() == 9
    assert any(path.is_file() for path in (tmp_path / "media").rglob("*.png"))
    restored_french = ReportPage.objects.get(pk=french.pk)
    assert restored_french.locale.language_code == "fr" and restored_french.live
    assert restored_french.get_translation(original.locale).pk == original.pk
    from django.core.cache import cache

    cache.clear()  # the restored database's pages, not the ones remembered from before
    assert "Rapport sur le logement" in client_get(french.url)


def client_get(url: str) -> str:
    from django.test import Client

    response = Client().get(url)
    assert response.status_code == 200, url
    return response.content.decode()


@pytest.fixture
def database_file(site_builder_transactional, tmp_path):
    """SQLite: the test's connection moved onto a file copy of the test database, in WAL mode
    as the site runs (the in-memory test database has no snapshots, and its shared cache locks
    a writer out while another connection reads), so another connection can write beside it.
    Nothing to do on PostgreSQL."""
    from django.db import connection

    if connection.vendor != "sqlite":
        yield
        return
    connection.ensure_connection()
    memory, name = connection.connection, connection.settings_dict["NAME"]
    path = tmp_path / "site.sqlite3"
    with closing(sqlite3.connect(path)) as copy:
        memory.backup(copy)
        copy.execute("PRAGMA journal_mode=WAL")
    connection.connection = None
    connection.settings_dict["NAME"] = str(path)
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["NAME"] = name
        connection.connection = memory


def _write_from_another_connection(name: str) -> None:
    """A row committed by another process's connection (a reply posted, a task's result)."""
    from django.db import connection

    statement = f"INSERT INTO auth_group (name) VALUES ('{name}')"
    if connection.vendor == "sqlite":
        with closing(sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)) as other:
            other.execute(statement)
        return
    import psycopg

    params = connection.get_connection_params()
    keys = ("dbname", "user", "password", "host", "port")
    with psycopg.connect(**{key: params[key] for key in keys if params.get(key)}, autocommit=True) as other:
        other.execute(statement)


@pytest.mark.django_db(transaction=True)
def test_a_backup_taken_while_the_site_writes_restores(database_file, tmp_path, monkeypatch):
    """The scheduled backup runs while the site is live: a row written by another connection
    while the backup is taken is in both the database copy and the manifest's summary, or in
    neither, so the archive restores (a manifest read after the copy made restore refuse it,
    after the database was replaced)."""
    from django.contrib.auth.models import Group

    run_import(FIXTURES / "edge-cases.xml")
    replies = Reply.objects.count()
    real_dump = backup._dump_database

    def dump_then_a_write(target):
        engine = real_dump(target)
        _write_from_another_connection("written during the backup")
        return engine

    monkeypatch.setattr(backup, "_dump_database", dump_then_a_write)
    archive = backup.backup(tmp_path / "site.tar.gz")
    monkeypatch.undo()
    assert Group.objects.filter(name="written during the backup").exists()
    Reply.objects.all().delete()
    restored = backup.restore(archive, force=True)
    assert restored["brought_up_to_date"] is False, "every row checksum compared"
    assert backup.table_summary() == restored["tables"]
    assert Reply.objects.count() == replies
    assert not Group.objects.filter(name="written during the backup").exists(), "written after the snapshot"


@pytest.mark.django_db(transaction=True)
def test_an_archive_that_counted_task_results_restores(site_builder_transactional, tmp_path):
    """Archives made before task results were left out of the manifest list them (counted
    while the worker wrote more): a restore does not compare them."""
    run_import(FIXTURES / "edge-cases.xml")
    archive = backup.backup(tmp_path / "site.tar.gz")
    manifest = backup.read_manifest(archive)
    manifest["tables"]["django_tasks_database.DBTaskResult"] = {"count": 3, "checksum": "0" * 64}
    import tarfile

    with tarfile.open(archive) as source:
        source.extractall(tmp_path / "unpacked", filter="data")
    _pack(archive, manifest, {name: tmp_path / "unpacked" / name for name in manifest["files"]})
    restored = backup.restore(archive, force=True)
    assert restored["brought_up_to_date"] is False


def test_wxr_export_carries_translations_as_posts(site):
    """WordPress has no languages of its own: a translation is exported as a post of its own,
    at its own address, so that nothing written in the admin is left out of the file."""
    original = site.report("Housing report")
    site.translate(site.home, "fr", title="Accueil")
    site.translate(site.index, "fr", title="Rapports")
    site.translate(original, "fr", title="Rapport sur le logement")
    out = io.StringIO()
    from speakout.interchange.wxr_export import export_wxr

    writer = export_wxr(out)
    text = out.getvalue()
    assert writer.items == 2
    assert "<title><![CDATA[Rapport sur le logement]]></title>" in text
    assert f"/fr{original.url}</link>" in text


# Transactional like the test above: SQLite's online backup of the in-memory test database waits
# forever inside a test's open transaction once a live-server test has shared the connection.
@pytest.mark.django_db(transaction=True)
def test_damaged_archive_is_refused(site_builder_transactional, tmp_path):
    run_import(FIXTURES / "edge-cases.xml")
    archive = backup.backup(tmp_path / "site.tar.gz")
    damaged = tmp_path / "damaged.tar.gz"
    import tarfile

    with tarfile.open(archive) as source, tarfile.open(damaged, "w:gz") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if member.name.startswith("database"):
                data = data[:-10] + b"0123456789"
            member.size = len(data)
            target.addfile(member, io.BytesIO(data))
    count = Reply.objects.count()
    with pytest.raises(ImportFailed, match="damaged"):
        backup.restore(damaged, force=True)
    assert Reply.objects.count() == count


@pytest.mark.django_db(transaction=True)
def test_cut_short_or_foreign_archive_is_refused_in_words(site_builder_transactional, tmp_path):
    """A backup cut short in transfer (a full disk, a dropped connection) or a file that is no
    archive at all gets a sentence from ``speakout restore``, not a traceback, and the instance
    is left as it was."""
    from django.core.management.base import CommandError

    run_import(FIXTURES / "edge-cases.xml")
    archive = backup.backup(tmp_path / "site.tar.gz")
    data = archive.read_bytes()
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(data[: len(data) * 2 // 3])
    foreign = tmp_path / "notes.tar.gz"
    foreign.write_bytes(b"Minutes of the meeting, not a backup.\n" * 100)
    count = Reply.objects.count()
    with pytest.raises(CommandError, match="damaged"):
        call_command("speakout_restore", str(cut), "--force")
    with pytest.raises(CommandError, match="not a Speakout backup"):
        call_command("speakout_restore", str(foreign), "--force")
    assert Reply.objects.count() == count


def test_the_manifest_is_read_from_the_archive_s_first_member(tmp_path):
    """The manifest is written first: reading it takes the first header, not a pass over the
    whole archive (gigabytes of media), so even a backup cut short shows what it held."""
    import tarfile

    manifest = {"format": 1, "engine": "sqlite", "files": {}, "tables": {}}
    archive = tmp_path / "site.tar.gz"
    with tarfile.open(archive, "w:gz") as target:
        data = json.dumps(manifest).encode()
        info = tarfile.TarInfo(backup.MANIFEST)
        info.size = len(data)
        target.addfile(info, io.BytesIO(data))
        padding = tarfile.TarInfo("media/large.bin")
        padding.size = 4 * 1024 * 1024
        target.addfile(padding, io.BytesIO(bytes(range(256)) * (padding.size // 256)))
    whole = archive.read_bytes()
    archive.write_bytes(whole[: len(whole) // 2])
    assert backup.read_manifest(archive) == manifest


def _pack(path, manifest: dict, members: dict) -> None:
    """An archive as ``speakout backup`` writes it: the manifest first, then the named files."""
    import tarfile

    with tarfile.open(path, "w:gz") as target:
        data = json.dumps(manifest).encode()
        info = tarfile.TarInfo(backup.MANIFEST)
        info.size = len(data)
        target.addfile(info, io.BytesIO(data))
        for name, source in members.items():
            target.add(source, arcname=name)


def _backup_of_an_earlier_version(tmp_path):
    """The archive the version before the import runs' start time and the Fediverse tombstones
    would have written: its database two migrations behind, and a manifest of that time (no
    list of migrations, no tombstone table, row checksums over that version's columns)."""
    from speakout.federation.models import NoteTombstone

    call_command("migrate", "speakout_interchange", "0004", verbosity=0)
    call_command("migrate", "speakout_federation", "0005", verbosity=0)
    try:
        dump = tmp_path / "earlier.dump"
        engine = backup._dump_database(dump)
    finally:
        call_command("migrate", verbosity=0)
    member = "database.sqlite3" if engine == "sqlite" else "database.pgdump"
    tables = {
        model._meta.label: {"count": model._base_manager.count(), "checksum": "over the earlier columns"}
        for model in backup.content_models()
        if model is not NoteTombstone
    }
    # Archives of that time counted the task results too (the worker added some after the copy).
    tables["django_tasks_database.DBTaskResult"] = {"count": 3, "checksum": "over the earlier columns"}
    manifest = {"format": 1, "engine": engine, "files": {member: backup._sha256(dump)}, "tables": tables}
    archive = tmp_path / "earlier.tar.gz"
    _pack(archive, manifest, {member: dump})
    return archive


@pytest.mark.django_db(transaction=True)
def test_a_backup_made_by_an_earlier_version_is_restored_and_brought_up_to_date(site_builder_transactional, tmp_path):
    """A backup from before an upgrade (the server died after it) is restored, its row counts
    checked, and its database migrated: the site runs on it, nothing lost."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from speakout.federation.models import NoteTombstone
    from speakout.interchange.models import ImportRun

    run_import(FIXTURES / "edge-cases.xml")
    replies = Reply.objects.count()
    archive = _backup_of_an_earlier_version(tmp_path)
    Reply.objects.all().delete()
    # A table the earlier version did not have, holding a row of the site being replaced.
    NoteTombstone.objects.create(digest="0" * 64)
    out = io.StringIO()
    call_command("speakout_restore", str(archive), "--force", stdout=out)
    assert "brought up to date" in out.getvalue()
    assert Reply.objects.count() == replies
    executor = MigrationExecutor(connection)
    assert not executor.migration_plan(executor.loader.graph.leaf_nodes()), "every migration applied"
    assert ImportRun.objects.filter(started_at__isnull=True).count() == ImportRun.objects.count()
    assert NoteTombstone.objects.count() == 0, "the replaced site's rows are gone with it"


@pytest.mark.django_db(transaction=True)
def test_a_backup_of_an_earlier_version_with_rows_missing_is_refused(site_builder_transactional, tmp_path):
    """Its row checksums cannot be compared across versions, so its counts are, before the
    database is migrated."""
    run_import(FIXTURES / "edge-cases.xml")
    archive = _backup_of_an_earlier_version(tmp_path)
    manifest = backup.read_manifest(archive)
    manifest["tables"]["speakout_discussion.Reply"]["count"] += 1
    import tarfile

    with tarfile.open(archive) as source:
        source.extractall(tmp_path / "unpacked", filter="data")
    member = next(iter(manifest["files"]))
    _pack(archive, manifest, {member: tmp_path / "unpacked" / member})
    with pytest.raises(ImportFailed, match="speakout_discussion.Reply"):
        backup.restore(archive, force=True)
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    assert not executor.migration_plan(executor.loader.graph.leaf_nodes()), "migrated, to be looked at"


@pytest.mark.django_db(transaction=True)
def test_a_backup_made_by_a_later_version_is_refused_before_anything_changes(site_builder_transactional, tmp_path):
    """Its database has migrations this version does not know: restored, its tables would not
    match the code. The manifest lists them, so it is refused before the first write."""
    run_import(FIXTURES / "edge-cases.xml")
    archive = backup.backup(tmp_path / "site.tar.gz")
    manifest = backup.read_manifest(archive)
    assert set(manifest["migrations"]) >= {
        "speakout_discussion.0001_initial",
        "speakout_interchange.0005_run_started_at",
    }
    manifest["migrations"].append("speakout_discussion.9001_from_a_later_version")
    import tarfile

    with tarfile.open(archive) as source:
        source.extractall(tmp_path / "unpacked", filter="data")
    _pack(archive, manifest, {name: tmp_path / "unpacked" / name for name in manifest["files"]})
    count = Reply.objects.count()
    Reply.objects.filter(pk=Reply.objects.order_by("pk").values("pk")[:1]).delete()
    with pytest.raises(ImportFailed, match="later version"):
        backup.restore(archive, force=True)
    assert Reply.objects.count() == count - 1, "the database was not replaced"


def test_the_tables_of_a_postgresql_dump_are_read_from_its_listing_or_nothing_is_dropped(monkeypatch, tmp_path):
    """After ``pg_restore`` the tables the dump lacks are dropped: a listing read wrong would make
    every table look left over, so one that names no table stops the restore before it starts."""
    listing = (
        ";\n; Selected TOC Entries:\n;\n"
        "231; 1259 16497 TABLE public account_emailaddress postgres\n"
        "3340; 0 16497 TABLE DATA public account_emailaddress postgres\n"
        "221; 1259 16411 TABLE public speakout_discussion_reply\n"
        "3197; 2606 16415 CONSTRAINT public speakout_discussion_reply speakout_discussion_reply_pkey postgres\n"
    )
    monkeypatch.setattr(backup, "_pg", lambda program, arguments, connect=True: listing)
    assert backup._tables_in_dump(tmp_path / "database.pgdump") == {
        "account_emailaddress",
        "speakout_discussion_reply",
    }
    monkeypatch.setattr(backup, "_pg", lambda program, arguments, connect=True: ";\n; TOC Entries: 0\n")
    with pytest.raises(ImportFailed, match="nothing was changed"):
        backup._tables_in_dump(tmp_path / "database.pgdump")


@pytest.mark.django_db
def test_only_our_own_tables_missing_from_a_dump_are_dropped(monkeypatch, tmp_path):
    """The tables a restore drops after ``pg_restore`` are those of our models the dump lacks:
    another program's table in a shared database is not ours to drop."""
    from django.db import connection

    from speakout.federation.models import NoteTombstone

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE another_programs_table (id integer)")
    ours = connection.introspection.django_table_names(only_existing=True, include_views=False)
    tombstones = NoteTombstone._meta.db_table
    listing = "".join(
        f"{number}; 1259 {number} TABLE public {table} postgres\n"
        for number, table in enumerate(ours, start=100)
        if table != tombstones
    )
    monkeypatch.setattr(backup, "_pg", lambda program, arguments, connect=True: listing)
    assert backup._leftover_tables(tmp_path / "database.pgdump") == {tombstones}


def test_a_migration_a_later_release_deleted_does_not_make_a_backup_look_later():
    """An unknown migration in an app whose known ones the backup has all of is a later
    version's; in an app that lacks some of them, it is an old one deleted after a squash."""
    known = sorted(backup._known_migrations())
    discussion = [name for name in known if name.startswith("speakout_discussion.")]
    others = [name for name in known if not name.startswith("speakout_discussion.")]
    older = {"migrations": [*others, *discussion[:-1], "speakout_discussion.0003_squashed_away_since"]}
    backup._refuse_a_later_version(older)
    later = {"migrations": [*known, "speakout_discussion.9001_from_a_later_version"]}
    with pytest.raises(ImportFailed, match="later version"):
        backup._refuse_a_later_version(later)


def _free_space(monkeypatch, free: int) -> None:
    """Every filesystem reports ``free`` bytes free."""
    import shutil

    real = shutil.disk_usage

    def disk_usage(path):
        usage = real(path)
        return type(usage)(usage.total, usage.total - free, free)

    monkeypatch.setattr(shutil, "disk_usage", disk_usage)


def _unpacked_size(archive) -> int:
    import tarfile

    with tarfile.open(archive) as source:
        return sum(member.size for member in source.getmembers() if member.isfile())


@pytest.mark.django_db(transaction=True)
def test_restore_that_would_fill_the_disk_is_refused_before_anything_changes(
    site_builder_transactional, tmp_path, monkeypatch
):
    """A backup is unpacked, copied into the media folder and written into the database: on a
    disk without room for that it stops before the first write, not halfway with the old
    database replaced and the media missing."""
    run_import(FIXTURES / "edge-cases.xml")
    archive = backup.backup(tmp_path / "site.tar.gz")
    count = Reply.objects.count()
    _free_space(monkeypatch, _unpacked_size(archive))
    with pytest.raises(ImportFailed, match="free"):
        backup.restore(archive, force=True)
    assert Reply.objects.count() == count


@pytest.mark.django_db(transaction=True)
def test_restore_unpacks_only_what_the_manifest_names(site_builder_transactional, tmp_path, monkeypatch):
    """Members the manifest does not name (a gzip bomb, say) are neither unpacked nor counted."""
    import tarfile

    run_import(FIXTURES / "edge-cases.xml")
    archive = backup.backup(tmp_path / "site.tar.gz")
    named = _unpacked_size(archive)
    padded = tmp_path / "padded.tar.gz"
    extra = 64 * 1024 * 1024
    with tarfile.open(archive) as source, tarfile.open(padded, "w:gz", compresslevel=1) as target:
        for member in source.getmembers():
            target.addfile(member, source.extractfile(member))
        bomb = tarfile.TarInfo("media/original_images/zeros.bin")
        bomb.size = extra
        target.addfile(bomb, io.BytesIO(bytes(extra)))
    unpacked: list[str] = []
    real_extract = tarfile.TarFile.extract

    def extract(self, member, *args, **kwargs):
        unpacked.append(getattr(member, "name", member))
        return real_extract(self, member, *args, **kwargs)

    monkeypatch.setattr(tarfile.TarFile, "extract", extract)
    # Room for what the manifest names twice over (the copy unpacked, then the database and media
    # written from it) and the reserve, not for the extra member.
    _free_space(monkeypatch, 2 * named + backup.RESTORE_RESERVE_BYTES + 1024 * 1024)
    backup.restore(padded, force=True)
    assert "media/original_images/zeros.bin" not in unpacked
    assert set(unpacked) == set(backup.read_manifest(archive)["files"])


@pytest.mark.django_db(transaction=True)
def test_a_manifest_too_large_to_read_is_refused_before_it_is_read(site_builder_transactional, tmp_path, monkeypatch):
    """The manifest is read whole into memory: one of gigabytes (a gzip bomb in its place) would
    take the server's memory, so its size is checked from its header first."""
    run_import(FIXTURES / "edge-cases.xml")
    archive = backup.backup(tmp_path / "site.tar.gz")
    import tarfile

    with tarfile.open(archive) as source:
        size = source.getmember(backup.MANIFEST).size
    monkeypatch.setattr(backup, "MANIFEST_MAX_BYTES", size - 1)
    read = []
    real_load = backup.json.load
    monkeypatch.setattr(backup.json, "load", lambda handle: read.append(1) or real_load(handle))
    with pytest.raises(ImportFailed, match="manifest"):
        backup.read_manifest(archive)
    assert not read
