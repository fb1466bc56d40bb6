"""Backups: one .tar.gz with a consistent copy of the database, the media files and a manifest.

The database copy is SQLite's online backup (a consistent snapshot while the site runs) or
``pg_dump`` in its custom format for PostgreSQL. The manifest lists each archive member's
SHA-256, the row count of every table, and a checksum of every table's rows, so a restore can
prove it brought back the same data: ``restore`` checks the members before touching anything
and the counts and row checksums afterwards. It also lists the database's migrations, so a
backup made by an earlier version is restored and then brought up to date (its row counts
checked before), and one made by a later version is refused before anything changes.

The archive also carries the keys the site keeps in its data folder (its generated secret key,
its DKIM key file), so the site restored on a new machine keeps its readers' cookies, sign-ins
and mailed links, and signs its mail with the key in its DNS record. Keys given by environment
variable are the operator's and stay out; the manifest names their settings.

Restoring is for an empty instance (a fresh install: migrated, no content), so nothing is
overwritten by surprise.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from speakout.net.files import open_private

from .errors import ImportFailed

MANIFEST = "manifest.json"
# A backup's manifest names each file and table in about 150 bytes: this is millions of files.
MANIFEST_MAX_BYTES = 256 * 1024 * 1024
ARCHIVE_FORMAT = 1
SECRET_KEY_MEMBER = "keys/secret_key"
DKIM_KEY_MEMBER = "keys/dkim.pem"


class BackupFailed(ImportFailed):
    pass


def _sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


# Apps whose tables hold no site data (sessions, task results...): not summed up, and not
# compared when an archive made before one was added here lists it.
NOT_CONTENT = {"sessions", "django_tasks_database", "contenttypes", "admin"}


def content_models():
    """Every concrete model whose table holds site data."""
    return [
        model
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy and model._meta.app_label not in NOT_CONTENT
    ]


def table_summary() -> dict[str, dict]:
    """Row count and a checksum of the rows (in primary key order) of every content table."""
    out = {}
    for model in content_models():
        digest = hashlib.sha256()
        count = 0
        fields = model._meta.concrete_fields
        names = [field.attname for field in fields]
        for row in model._base_manager.order_by("pk").values_list(*names).iterator(chunk_size=2000):
            # get_prep_value gives plain data (a StreamField's blocks, not an object's repr).
            plain = [field.get_prep_value(value) for field, value in zip(fields, row, strict=True)]
            digest.update(json.dumps(plain, sort_keys=True, default=str).encode())
            count += 1
        out[model._meta.label] = {"count": count, "checksum": digest.hexdigest()}
    return out


@contextmanager
def _one_snapshot():
    """One transaction on this connection for what ``backup`` reads (the copy, the summary, the
    migrations): the site goes on writing meanwhile, and a manifest read after the copy would
    describe another database, which a restore refuses once it has replaced the database.
    PostgreSQL: REPEATABLE READ (set on the driver: a health check's query may open the
    transaction), whose snapshot ``pg_dump`` imports. SQLite (WAL): a deferred transaction, not
    Django's BEGIN IMMEDIATE, so the site's writers need not wait, whose first read takes its
    snapshot; the online backup of a connection in a read transaction copies that snapshot. A
    caller's SQLite transaction is one snapshot already."""
    connection.ensure_connection()
    if connection.vendor == "postgresql":
        from django.db.backends.postgresql.psycopg_any import IsolationLevel

        driver = connection.connection
        level, driver.isolation_level = driver.isolation_level, IsolationLevel.REPEATABLE_READ
        try:
            with transaction.atomic():
                yield
        finally:
            driver.isolation_level = level
    elif connection.vendor == "sqlite" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("BEGIN DEFERRED")
            try:
                # The snapshot starts here: a backup step would take one of its own and drop it.
                cursor.execute("SELECT count(*) FROM sqlite_master")
                yield
            finally:
                cursor.execute("COMMIT")
    else:
        yield


def _dump_database(target: Path) -> str:
    """The database as this connection's transaction sees it (``_one_snapshot``)."""
    connection.ensure_connection()
    if connection.vendor == "sqlite":
        with closing(sqlite3.connect(target)) as destination, destination:
            connection.connection.backup(destination)
        return "sqlite"
    if connection.vendor == "postgresql":
        # pg_dump reads this transaction's snapshot, kept open (exported) while it runs; not
        # from a savepoint, where PostgreSQL refuses to export one.
        with transaction.atomic(savepoint=False), connection.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            arguments = ["--format=custom", "--no-owner", "--no-privileges", "--snapshot", snapshot]
            _pg("pg_dump", [*arguments, "--file", str(target)])
        return "postgresql"
    raise BackupFailed(_("Backups support SQLite and PostgreSQL only."))


def _pg(program: str, arguments: list[str], *, connect: bool = True) -> str:
    """Run a PostgreSQL client tool (on this site's database unless ``connect`` is false); its output."""
    executable = shutil.which(program)
    if executable is None:
        raise BackupFailed(
            _("%(program)s is not installed; install the PostgreSQL client tools (version %(version)s or newer).")
            % {"program": program, "version": connection.pg_version // 10000}
        )
    params = connection.get_connection_params()
    env = {**os.environ}
    command = [executable, *arguments]
    if connect:
        command += ["--dbname", params.get("dbname") or settings.DATABASES["default"]["NAME"]]
        for option, key in (("--host", "host"), ("--port", "port"), ("--username", "user")):
            if params.get(key):
                command += [option, str(params[key])]
    if params.get("password"):
        env["PGPASSWORD"] = str(params["password"])
    completed = subprocess.run(command, env=env, capture_output=True, text=True)
    if completed.returncode != 0:
        raise BackupFailed(
            _("%(program)s failed: %(error)s") % {"program": program, "error": completed.stderr.strip()[:2000]}
        )
    return completed.stdout


def _tables_in_dump(dump: Path) -> set[str]:
    """The tables a ``pg_dump`` archive creates, from ``pg_restore --list`` ("214; 1259 81867
    TABLE public name owner")."""
    listing = _pg("pg_restore", ["--list", str(dump)], connect=False)
    entries = re.finditer(r"^\d+; \d+ \d+ TABLE (?!DATA )\S+ (\S+)(?: |$)", listing, re.MULTILINE)
    tables = {match[1] for match in entries}
    if not tables:
        # A listing this code cannot read: every table would look left over and be dropped.
        raise BackupFailed(_("pg_restore lists no table in this backup; nothing was changed."))
    return tables


def _leftover_tables(dump: Path) -> set[str]:
    """Tables of this code's models that the dump lacks (made by a migration later than the
    backup): ``pg_restore --clean`` drops only what the dump has, so they would stay, with the
    replaced site's rows. Only our models' tables: a database shared with other software keeps
    theirs."""
    ours = set(connection.introspection.django_table_names(only_existing=True, include_views=False))
    return ours - _tables_in_dump(dump)


def _drop(tables: set[str]) -> None:
    if not tables:
        return
    names = ", ".join(connection.ops.quote_name(name) for name in sorted(tables))
    try:
        with connection.cursor() as cursor:
            # No CASCADE: whatever else depends on them (another program's view) is not ours to drop.
            cursor.execute(f"DROP TABLE IF EXISTS {names}")
    except DatabaseError as error:
        raise BackupFailed(
            _("%(program)s failed: %(error)s") % {"program": "DROP TABLE", "error": str(error).strip()[:2000]}
        ) from error


def _media_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    if not root.is_dir():
        return []
    skip = root / "interchange"  # uploaded import files are not site content
    return sorted(
        path for path in root.rglob("*") if path.is_file() and skip not in path.parents and not path.is_symlink()
    )


def _key_files() -> dict[str, Path]:
    """Where this site keeps each key an archive may carry, by member name."""
    from speakout.outbox.app_settings import app_settings

    return {SECRET_KEY_MEMBER: Path(settings.DATA_DIR) / "secret_key", DKIM_KEY_MEMBER: app_settings.DKIM_KEY_FILE}


def _secret_key_file_in_use() -> bool:
    path = _key_files()[SECRET_KEY_MEMBER]
    return path.is_file() and path.read_text().strip() == settings.SECRET_KEY


def _keys_in_use() -> tuple[dict[str, Path], list[str]]:
    """The key files this site signs with, by member name, and the settings that give it keys
    from the environment instead."""
    from speakout.outbox.app_settings import app_settings

    files, from_environment = {}, []
    paths = _key_files()
    if _secret_key_file_in_use():
        files[SECRET_KEY_MEMBER] = paths[SECRET_KEY_MEMBER]
    else:
        from_environment.append("SPEAKOUT_SECRET_KEY")
    if settings.SECRET_KEY_FALLBACKS:
        from_environment.append("SPEAKOUT_SECRET_KEY_FALLBACKS")
    if app_settings.DKIM_PRIVATE_KEY.strip():
        from_environment.append("SPEAKOUT_DKIM_PRIVATE_KEY")
    elif paths[DKIM_KEY_MEMBER].is_file():
        files[DKIM_KEY_MEMBER] = paths[DKIM_KEY_MEMBER]
    return files, from_environment


def backup(destination: str | Path | None = None) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    if destination is None:
        destination = Path(settings.DATA_DIR) / "backups"
        destination.mkdir(parents=True, exist_ok=True)
        destination.chmod(0o700)
    destination = Path(destination)
    if destination.is_dir():
        destination = destination / f"speakout-{stamp}.tar.gz"
    with tempfile.TemporaryDirectory(prefix="speakout-backup-") as scratch:
        dump = Path(scratch) / "database.dump"
        with _one_snapshot():
            engine = _dump_database(dump)
            tables, migrations = table_summary(), sorted(_applied_migrations())
        keys, keys_from_environment = _keys_in_use()
        root = Path(settings.MEDIA_ROOT)
        members = {
            "database.sqlite3" if engine == "sqlite" else "database.pgdump": dump,
            **{"media/" + path.relative_to(root).as_posix(): path for path in _media_files()},
            **keys,
        }
        manifest = {
            "format": ARCHIVE_FORMAT,
            "created_at": datetime.now(UTC).isoformat(),
            "engine": engine,
            "files": {name: _sha256(path) for name, path in members.items()},
            "tables": tables,
            "migrations": migrations,
            "keys_from_environment": keys_from_environment,
        }
        partial = destination.with_name(destination.name + ".partial")
        with open_private(partial, "wb") as handle, tarfile.open(fileobj=handle, mode="w:gz") as archive:
            data = json.dumps(manifest, indent=1, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            info.mtime = int(datetime.now(UTC).timestamp())
            archive.addfile(info, io.BytesIO(data))
            for name, path in members.items():
                archive.add(path, arcname=name)
        partial.replace(destination)
    return destination


# What a cut-short or foreign file raises while it is read (a full disk raises other OSErrors).
UNREADABLE = (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile)


def _not_a_backup() -> BackupFailed:
    return BackupFailed(_("This archive has no manifest; it is not a Speakout backup."))


def _damaged() -> BackupFailed:
    return BackupFailed(_("The archive is damaged: it ends early or cannot be unpacked."))


def read_manifest(archive_path: Path) -> dict:
    """The manifest, from the archive's first member (``backup`` writes it first): one header
    read, not a pass over gigabytes of media."""
    try:
        with tarfile.open(archive_path, "r:gz") as archive:
            member = archive.next()
            if member is None or member.name != MANIFEST or not member.isfile():
                raise _not_a_backup()
            # Read whole into memory: its size is checked from its header first.
            if member.size > MANIFEST_MAX_BYTES:
                raise BackupFailed(_("This archive's manifest is too large to be a Speakout backup's."))
            handle = archive.extractfile(member)
            if handle is None:
                raise _not_a_backup()
            manifest = json.load(handle)
    except UNREADABLE as error:
        raise (_not_a_backup() if isinstance(error, tarfile.ReadError) else _damaged()) from error
    except ValueError as error:  # not JSON
        raise _not_a_backup() from error
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise _not_a_backup()
    for name in manifest["files"]:
        if not _member_name_is_safe(name):
            raise BackupFailed(
                _("This archive names a file outside its own folders (%(name)s); nothing was changed.") % {"name": name}
            )
    return manifest


def _member_name_is_safe(name: str) -> bool:
    """A member restore writes (the database, a file under ``media/``, or a key) whose name cannot
    climb out of where it goes: whoever made the archive chose its names."""
    parts = PurePosixPath(name).parts
    if name in ("database.sqlite3", "database.pgdump", SECRET_KEY_MEMBER, DKIM_KEY_MEMBER):
        return True
    return len(parts) > 1 and parts[0] == "media" and not {"..", "/"} & set(parts)


def database_is_new() -> bool:
    """The database has no table at all: nothing has set it up (a new data folder)."""
    return not connection.introspection.table_names()


# Tables a fresh install fills, or whose rows only configure the site or derive from its
# content: a restore may replace them without --force. Every other table holds the site's own
# (a new model's too, unless it is named here).
SET_UP_TABLES = {
    "auth.Permission",
    "auth.Group",
    "socialaccount.SocialApp",
    "wagtailadmin.Admin",
    "wagtailadmin.EditingSession",
    "wagtailadmin.FormState",
    "wagtailcore.Collection",
    "wagtailcore.GroupApprovalTask",
    "wagtailcore.GroupCollectionPermission",
    "wagtailcore.GroupPagePermission",
    "wagtailcore.GroupSitePermission",
    "wagtailcore.Locale",
    "wagtailcore.ModelLogEntry",
    "wagtailcore.PageLogEntry",
    "wagtailcore.ReferenceIndex",
    "wagtailcore.Revision",
    "wagtailcore.Site",
    "wagtailcore.Task",
    "wagtailcore.Workflow",
    "wagtailcore.WorkflowContentType",
    "wagtailcore.WorkflowPage",
    "wagtailcore.WorkflowTask",
    "wagtailembeds.Embed",
    "wagtailimages.Rendition",
    "wagtailsearch.IndexEntry",
    "wagtailsearch.SQLiteFTSIndexEntry",
    "wagtailusers.UserProfile",
    "speakout_discussion.DiscussionSettings",
    "speakout_federation.ActorKey",
    "speakout_federation.FederationSettings",
    "speakout_outbox.SenderSettings",
    "speakout_safety.RemovalNotice",
    "speakout_safety.SafetySettings",
    "speakout_safety.SpamModel",
    "speakout_theme.LanguageSettings",
}
# Rows of the staff's own accounts (``speakout setup`` makes the first admin): set-up too.
STAFF_TABLES = {
    "account.EmailAddress": "user__in",
    "account.EmailConfirmation": "email_address__user__in",
    "mfa.Authenticator": "user__in",
}


def instance_is_empty() -> bool:
    """Nothing here is the site's own yet: no page but Wagtail's placeholder, and no row in any
    table but the set-up ones (staff accounts included). Subscribers taken in before the first
    post, an uploaded picture or a reader's account are content a restore must not replace
    unasked."""
    if database_is_new():
        return True
    from django.contrib.auth import get_user_model
    from django.db.models import Q
    from wagtail.models import Page

    from speakout.publishing.home import content_summary

    if any(content_summary().values()):
        return False
    user_model = get_user_model()
    staff = user_model._base_manager.filter(Q(is_staff=True) | Q(is_superuser=True)).values("pk")
    for model in content_models():
        label = model._meta.label
        if label in SET_UP_TABLES or issubclass(model, Page):
            continue
        rows = model._base_manager.all()
        if model is user_model:
            rows = rows.exclude(pk__in=staff)
        elif label in STAFF_TABLES:
            rows = rows.exclude(**{STAFF_TABLES[label]: staff})
        if rows.exists():
            return False
    return True


# Left free by a restore for what the site writes meanwhile (its log, mail files, the worker).
RESTORE_RESERVE_BYTES = 100 * 1024 * 1024


def _check_space(members: list[tarfile.TarInfo], scratch: Path) -> None:
    """Refuse, before the first write, a restore the disks have no room for: the archive is
    unpacked, then its media copied and (SQLite) its database written, and a disk that filled up
    halfway would leave the old database replaced and the media missing."""
    unpacked = sum(member.size for member in members)
    places = [
        (scratch, unpacked),
        (Path(settings.MEDIA_ROOT), sum(member.size for member in members if member.name.startswith("media/"))),
    ]
    if connection.vendor == "sqlite" and not connection.is_in_memory_db():
        database = sum(member.size for member in members if member.name == "database.sqlite3")
        places.append((Path(connection.settings_dict["NAME"]).parent, database))
    needed: dict[int, tuple[Path, int]] = {}  # by filesystem: the places on one disk add up
    for place, size in places:
        while not place.exists() and place != place.parent:  # a folder made later: its disk
            place = place.parent
        first, total = needed.get(place.stat().st_dev, (place, 0))
        needed[place.stat().st_dev] = (first, total + size)
    for folder, size in needed.values():
        free = shutil.disk_usage(folder).free
        if size + RESTORE_RESERVE_BYTES > free:
            raise BackupFailed(
                _("Restoring this archive needs %(needed)s free on the disk of %(folder)s; it has %(free)s free.")
                % {
                    "needed": filesizeformat(size + RESTORE_RESERVE_BYTES),
                    "folder": folder,
                    "free": filesizeformat(free),
                }
            )


def _applied_migrations() -> set[str]:
    from django.db.migrations.recorder import MigrationRecorder

    return {f"{app}.{name}" for app, name in MigrationRecorder(connection).applied_migrations()}


def _known_migrations() -> set[str]:
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    return {f"{app}.{name}" for app, name in loader.disk_migrations}


def _refuse_a_later_version(manifest: dict) -> None:
    """A backup whose database has migrations this code does not know was made by a later
    version: restored here, its tables would not match the code (archives made before the
    manifest listed them come from earlier versions, which this code can bring up to date)."""
    archived = set(manifest.get("migrations") or ())
    known = _known_migrations()
    # An unknown name in an app whose known migrations are all applied is one ahead of this code;
    # in an app that lacks some, it is an old one a later release deleted after squashing.
    unknown = sorted(
        name
        for name in archived - known
        if {other for other in known if other.split(".", 1)[0] == name.split(".", 1)[0]} <= archived
    )
    if unknown:
        raise BackupFailed(
            _(
                "This backup was made by a later version of Speakout (its database has changes "
                "this version does not know, such as %(migration)s). Install that version or a "
                "newer one, then restore."
            )
            % {"migration": unknown[0]}
        )


def migrations_pending() -> bool:
    """The database lacks migrations this code has (a new one, or a restored earlier version's)."""
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))


def _check_counts(manifest: dict) -> None:
    """Before an earlier version's database is migrated: every table it had holds the rows its
    manifest counted (its row checksums were taken over the earlier version's columns, and the
    database file itself matched its checksum already)."""
    existing = set(connection.introspection.table_names())
    for label, expected in manifest["tables"].items():
        if label.split(".")[0] in NOT_CONTENT:
            continue
        try:
            model = apps.get_model(label)
        except LookupError:
            continue  # a model this version no longer has; its migration drops the table
        if model._meta.db_table not in existing:
            continue
        rows = model._base_manager.count()  # COUNT(*): reads no column the table may lack
        if rows != expected["count"]:
            raise _mismatch(label, rows, expected["count"])


def _mismatch(label: str, rows: int, expected: int) -> BackupFailed:
    return BackupFailed(
        ngettext(
            "The restored table %(table)s does not match the backup (%(found)s row, %(expected)s expected).",
            "The restored table %(table)s does not match the backup (%(found)s rows, %(expected)s expected).",
            rows,
        )
        % {"table": label, "found": rows, "expected": expected}
    )


def _write_private(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    with open(source, "rb") as data, open_private(partial, "wb") as handle:
        shutil.copyfileobj(data, handle)
    partial.replace(target)


def _differing_dkim_key(manifest: dict) -> Path | None:
    """This site's DKIM key file, when the archive carries a different one."""
    path = _key_files()[DKIM_KEY_MEMBER]
    archived = manifest["files"].get(DKIM_KEY_MEMBER)
    return path if archived and path.is_file() and _sha256(path) != archived else None


def _restore_keys(manifest: dict, folder: Path) -> list[str]:
    """Put the archive's keys where this site reads them; what the operator must know or do."""
    paths = _key_files()
    secret, dkim = paths[SECRET_KEY_MEMBER], paths[DKIM_KEY_MEMBER]
    notes = []
    if SECRET_KEY_MEMBER in manifest["files"]:
        in_use = _secret_key_file_in_use()
        _write_private(folder / SECRET_KEY_MEMBER, secret)
        if secret.read_text().strip() != settings.SECRET_KEY:
            message = (
                _("The old site's secret key is now in %(path)s: restart the web processes and the worker to use it.")
                if in_use
                else _(
                    "This site's secret key is set by SPEAKOUT_SECRET_KEY, so the old site's key, written to "
                    "%(path)s, is not used: add it to SPEAKOUT_SECRET_KEY_FALLBACKS for the links, cookies and "
                    "sign-ins the old site made to keep working."
                )
            )
            notes.append(message % {"path": secret})
    if DKIM_KEY_MEMBER in manifest["files"]:
        if _differing_dkim_key(manifest):
            kept = dkim.with_name(f"{dkim.name}.before-restore-{datetime.now(UTC):%Y%m%d-%H%M%S}")
            dkim.replace(kept)
            notes.append(_("This data folder's own DKIM key, which differs, is kept as %(path)s.") % {"path": kept})
        _write_private(folder / DKIM_KEY_MEMBER, dkim)
        notes.append(_("The old site's DKIM key is now in %(path)s.") % {"path": dkim})
    if "keys_from_environment" not in manifest:
        notes.append(
            _(
                "This archive was made before backups carried the site's keys: the links, cookies and sign-ins "
                "the old site made need its secret key (add it to SPEAKOUT_SECRET_KEY_FALLBACKS), and if it "
                "signed its mail with DKIM, copy its key file to %(path)s."
            )
            % {"path": dkim}
        )
    for setting in manifest.get("keys_from_environment", ()):
        notes.append(
            _("The old site's %(setting)s was set in its environment, so it is not in the archive: set it here too.")
            % {"setting": setting}
        )
    return notes


def restore(archive_path: str | Path, *, force: bool = False) -> dict:
    """Restore an archive into this (empty) instance; returns the manifest once verified, with
    ``brought_up_to_date`` true when the archive came from an earlier version and was migrated,
    and ``notes`` on the site's keys for the operator."""
    archive_path = Path(archive_path)
    if not archive_path.is_file():
        raise BackupFailed(_("There is no archive at %(path)s.") % {"path": archive_path})
    manifest = read_manifest(archive_path)
    _refuse_a_later_version(manifest)
    if not force and not instance_is_empty():
        raise BackupFailed(
            _("This instance already has content. Restore into an empty instance, or pass --force to replace it.")
        )
    # Its public half may be in the organisation's DNS already: replacing it is the operator's choice.
    dkim = _differing_dkim_key(manifest)
    if dkim and not force:
        raise BackupFailed(
            _(
                "This site already has a DKIM key in %(path)s, different from the archive's. Pass --force to "
                "restore the archive's (this one is kept beside it); nothing was changed."
            )
            % {"path": dkim}
        )
    with tempfile.TemporaryDirectory(prefix="speakout-restore-") as scratch:
        folder = Path(scratch)
        try:
            with tarfile.open(archive_path, "r:gz") as archive:
                # Only what the manifest names: anything else in the file (a gzip bomb) stays packed.
                members = [member for member in archive.getmembers() if member.name in manifest["files"]]
                _check_space(members, folder)
                for member in members:
                    archive.extract(member, folder, filter="data")
        except UNREADABLE as error:
            raise _damaged() from error
        for name, expected in manifest["files"].items():
            path = folder / name
            if not path.is_file() or _sha256(path) != expected:
                raise BackupFailed(_("The archive is damaged: %(name)s does not match its checksum.") % {"name": name})
        engine = manifest["engine"]
        if engine != connection.vendor:
            raise BackupFailed(
                _("This backup is of a %(engine)s database; this instance uses %(vendor)s.")
                % {"engine": engine, "vendor": connection.vendor}
            )
        connection.ensure_connection()
        if engine == "sqlite":
            with closing(sqlite3.connect(folder / "database.sqlite3")) as source, source:
                source.backup(connection.connection)
        else:
            dump = folder / "database.pgdump"
            leftovers = _leftover_tables(dump)
            _pg(
                "pg_restore",
                ["--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction", str(dump)],
            )
            _drop(leftovers)
        connection.close()
        root = Path(settings.MEDIA_ROOT)
        for name in manifest["files"]:
            if name.startswith("media/"):
                target = root / name[len("media/") :]
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(folder / name, target)
        manifest["notes"] = _restore_keys(manifest, folder)
    manifest["brought_up_to_date"] = migrations_pending()
    if manifest["brought_up_to_date"]:
        from django.core.management import call_command

        try:
            _check_counts(manifest)
        finally:
            # Even when a count differs: the database is the archive's now, and the site must
            # run on it to be looked at.
            call_command("migrate", interactive=False, verbosity=0)
    else:
        found = table_summary()
        for label, expected in manifest["tables"].items():
            if found.get(label) != expected and label.split(".")[0] not in NOT_CONTENT:
                raise _mismatch(label, found.get(label, {}).get("count") or 0, expected["count"])
    from django.core.cache import cache

    cache.clear()
    return manifest


def scheduled_backup() -> None:
    """The worker's scheduled job (see SPEAKOUT_BACKUP_EVERY_HOURS): back up, keep the newest few."""
    path = backup()
    keep = int(getattr(settings, "SPEAKOUT_BACKUP_KEEP", 7) or 7)
    archives = sorted(path.parent.glob("speakout-*.tar.gz"))
    for old in archives[:-keep]:
        old.unlink(missing_ok=True)
