"""Every `speakout` command works on a new data folder, and a configuration mistake is told in
one line (what to set or install), never as a traceback."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.integration.server import new_server, server_environment

pytestmark = [pytest.mark.server, pytest.mark.xdist_group("first-hour")]


def test_export_on_a_new_data_folder(tmp_path):
    server = new_server(tmp_path)
    try:
        target = tmp_path / "site.json"
        server.succeed("export", "--format", "json", "--output", str(target))
        assert json.loads(target.read_text())
    finally:
        server.cleanup()


def test_manage_on_a_new_data_folder(tmp_path):
    server = new_server(tmp_path)
    try:
        output = server.succeed("manage", "shell", "-c", "from wagtail.models import Page; print(Page.objects.count())")
        assert "2" in output.splitlines(), output
    finally:
        server.cleanup()


def test_backup_and_restore_on_new_data_folders(tmp_path):
    """A backup of a folder nothing set up, restored into another folder nothing set up."""
    first, second = new_server(tmp_path / "first"), new_server(tmp_path / "second")
    try:
        archive = tmp_path / "backup.tar.gz"
        first.succeed("backup", "--output", str(archive))
        assert archive.is_file()
        output = second.succeed("restore", str(archive))
        assert "Restored" in output or "restored" in output, output
        # The archive replaces the whole database: a new one is not migrated first, for nothing.
        assert "Bringing the database up to date" not in output, output
        second.succeed("manage", "migrate", "--check")  # and the restored one is up to date
    finally:
        first.cleanup()
        second.cleanup()


# A setting that needs an optional package: the package is hidden from the command.
HIDE_PACKAGE = """
import importlib.util, sys
real = importlib.util.find_spec
importlib.util.find_spec = lambda name, package=None: None if name == {name!r} else real(name, package)
from speakout.cli import main
sys.exit(main(sys.argv[1:]))
"""


def one_line_problem(tmp_path, args, extra_env, hide=None):
    env = server_environment(tmp_path / "data", 8000, None)
    env.update(extra_env)
    command = [sys.executable, "-c", HIDE_PACKAGE.format(name=hide)] if hide else [sys.executable, "-m", "speakout.cli"]
    result = subprocess.run(command + args, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize("command", [["setup", "--no-demo"], ["run"], ["import", "x.xml"], ["manage", "check"]])
def test_redis_url_without_the_redis_package(tmp_path, command):
    line = one_line_problem(tmp_path, command, {"REDIS_URL": "redis://127.0.0.1:6379/0"}, hide="redis")
    assert line == 'speakout: REDIS_URL needs the redis package: pip install "speakout[redis]"'


def test_postgres_database_url_without_psycopg(tmp_path):
    line = one_line_problem(
        tmp_path, ["setup"], {"DATABASE_URL": "postgres://speakout@127.0.0.1/speakout"}, hide="psycopg"
    )
    assert line == 'speakout: DATABASE_URL (PostgreSQL) needs the psycopg package: pip install "speakout[postgres]"'


def test_a_database_that_cannot_be_reached(tmp_path):
    from tests.integration.server import free_port

    url = f"postgres://nobody@127.0.0.1:{free_port()}/nothing"
    line = one_line_problem(tmp_path, ["export"], {"DATABASE_URL": url})
    assert line.startswith("speakout: The database cannot be reached (check DATABASE_URL):"), line


def test_a_malformed_setting(tmp_path):
    line = one_line_problem(tmp_path, ["setup"], {"SPEAKOUT_DEBUG": "perhaps"})
    assert line == "speakout: SPEAKOUT_DEBUG must be a yes/no value, not 'perhaps'"
