"""Production settings, secrets, security headers and logging."""

import logging
import os
import stat
import subprocess
import sys

import pytest

from tests.project.helpers import run_manage


def test_check_deploy_is_clean_in_production(tmp_path):
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env_overrides={
            "SPEAKOUT_ENV": "production",
            "SPEAKOUT_SECRET_KEY": "x" * 20 + "a-long-random-production-secret-value-1234567890",
            "SPEAKOUT_ALLOWED_HOSTS": "reports.example.org",
            "SPEAKOUT_BASE_URL": "https://reports.example.org",
        },
        tmp_path=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = run_manage(
        "check",
        env_overrides={"SPEAKOUT_ENV": "production", "SPEAKOUT_ALLOWED_HOSTS": "reports.example.org"},
        tmp_path=tmp_path,
    )
    assert result.returncode != 0
    assert "SPEAKOUT_SECRET_KEY must be set" in result.stderr


def test_embedded_default_generates_a_private_secret_key_once(tmp_path):
    first = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.SECRET_KEY)",
        env_overrides={},
        tmp_path=tmp_path,
    )
    second = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.SECRET_KEY)",
        env_overrides={},
        tmp_path=tmp_path,
    )
    key_file = tmp_path / "secret_key"

    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout, "the key survives restarts"
    assert len(first.stdout.strip()) >= 50
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_bad_environment_values_fail_clearly(tmp_path):
    result = run_manage("check", env_overrides={"SPEAKOUT_DEBUG": "maybe"}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "SPEAKOUT_DEBUG must be a yes/no value" in result.stderr


def test_earlier_secret_keys_come_from_the_environment(tmp_path):
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.SECRET_KEY_FALLBACKS)",
        env_overrides={"SPEAKOUT_SECRET_KEY_FALLBACKS": " first-old-key , second-old-key "},
        tmp_path=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "['first-old-key', 'second-old-key']"


def test_redis_url_selects_the_redis_cache(tmp_path):
    # Django's Redis backend, keeping one client per connection pool (a new client per call
    # cost more than the round trip); every operation the project uses still works.
    result = run_manage(
        "shell",
        "-c",
        "from django.core.cache import caches; from django.core.cache.backends.redis import RedisCache; "
        "c = caches['default']; c.set('probe', 'ok'); c.set('count', 1); c.incr('count'); "
        "same = c._cache.get_client() is c._cache.get_client(write=True); "
        "print(isinstance(c, RedisCache), same, c.get('probe'), c.get_many(['probe', 'count']))",
        env_overrides={"REDIS_URL": "redis://127.0.0.1:6379/15"},
        tmp_path=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "True True ok {'probe': 'ok', 'count': 2}"


def test_with_redis_the_page_cache_versions_are_files_on_sqlite_and_in_redis_on_postgresql(tmp_path):
    # Every process that reaches an SQLite database runs on its host and reaches the data folder,
    # so the versions every cache hit reads are files there; a database that several hosts share
    # keeps them in Redis. Without Redis they are files whatever the database.
    probe = (
        "from speakout.pagecache import versions; files = versions.file_versions(); print(files and files.directory)"
    )
    redis_url = {"REDIS_URL": "redis://127.0.0.1:6379/15"}
    postgres = {"DATABASE_URL": "postgres://speakout@db.invalid/speakout"}
    files = str(tmp_path / "cache" / "versions")
    for overrides, expected in (
        ({**redis_url, "DATABASE_URL": ""}, files),
        ({**redis_url, "DATABASE_URL": f"sqlite:///{tmp_path}/elsewhere.sqlite3"}, files),
        ({**redis_url, **postgres}, "None"),
        ({**postgres, "REDIS_URL": ""}, files),
    ):
        result = run_manage("shell", "-c", probe, env_overrides=overrides, tmp_path=tmp_path)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip().splitlines()[-1] == expected, overrides


@pytest.mark.django_db
def test_public_pages_send_a_strict_content_security_policy(client, site_builder):
    policy = client.get("/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))

    assert directives["script-src"] == "'self'"
    assert directives["default-src"] == "'self'"
    assert "unsafe-inline" not in policy
    assert directives["object-src"] == "'none'"


@pytest.mark.django_db
def test_public_pages_have_no_inline_script(client, site_builder):
    site_builder.report("A report")
    for url in ["/", "/reports/", "/search/?q=report"]:
        html = client.get(url).content.decode()
        assert "<script>" not in html and " onclick=" not in html, url


@pytest.mark.django_db
def test_admin_gets_its_own_policy(admin_client):
    policy = admin_client.get("/admin/")["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in policy
    assert "https:" not in policy and "*" not in policy


def test_log_records_carry_no_request_details():
    from django.test import RequestFactory

    from speakout.theme.logging import NoPersonalDataFilter

    request = RequestFactory().get("/reports/?email=someone@example.org", REMOTE_ADDR="203.0.113.9")
    record = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "Internal Server Error: %s", ("/x",), None)
    record.request = request
    record.status_code = 500

    NoPersonalDataFilter().filter(record)

    message = record.getMessage()
    assert message == "GET /reports/ -> 500"
    assert "203.0.113.9" not in message and "someone@example.org" not in message
    assert record.request is None


def test_several_web_processes_need_redis(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in ("DJANGO_SETTINGS_MODULE", "REDIS_URL")}
    result = subprocess.run(
        [sys.executable, "-m", "speakout.cli", "run", "--workers", "2", "--port", "1"],
        env={**env, "SPEAKOUT_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "set REDIS_URL" in result.stderr


def database_options(tmp_path, url: str, **env_overrides) -> str:
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; print(sorted(settings.DATABASES['default'].get('OPTIONS', {}).items()))",
        env_overrides={"DATABASE_URL": url, **env_overrides},
        tmp_path=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_postgresql_binds_on_the_server_and_prepares_statements_unless_turned_off(tmp_path):
    url = "postgres://speakout@db.invalid/speakout"
    assert database_options(tmp_path, url) == "[('prepare_threshold', 1), ('server_side_binding', True)]"
    assert database_options(tmp_path, url, SPEAKOUT_DB_PREPARED_STATEMENTS="no") == "[]"
    # What the URL says wins (a pooler that keeps no prepared statements, say).
    assert (
        database_options(tmp_path, url + "?prepare_threshold=5&server_side_binding=false")
        == "[('prepare_threshold', 5), ('server_side_binding', False)]"
    )
