"""One real WordPress site for the tests: Debian's core, its PHP CLI and a throwaway MariaDB database."""

import json
import os
import subprocess
import uuid
from pathlib import Path

CORE = Path(os.environ.get("SPEAKOUT_TEST_WORDPRESS", "/usr/share/wordpress"))
PHP = os.environ.get("SPEAKOUT_TEST_PHP", "/usr/bin/php")
# A MariaDB (or MySQL) server whose root user has no password, as .ci/run starts it.
MARIADB = os.environ.get("SPEAKOUT_TEST_MARIADB", "127.0.0.1:3306")
HELPER = Path(__file__).with_name("wordpress.php")
URL = "http://wordpress.test"


class WordPress:
    """One WordPress site: a fresh database on the MariaDB server and its own content folder."""

    def __init__(self, folder: Path, url: str = URL):
        missing = [str(path) for path in (CORE / "wp-settings.php", Path(PHP)) if not path.exists()]
        if missing:
            raise RuntimeError(
                f"WordPress is missing ({', '.join(missing)}): install Debian's wordpress, php-cli and "
                "php-mysql packages (.ci/run does)."
            )
        self.database = f"speakout_wp_{uuid.uuid4().hex[:12]}"
        content = folder / "wp-content"
        for sub in ("plugins", "themes", "uploads"):
            (content / sub).mkdir(parents=True)
        host, _, port = MARIADB.partition(":")
        self.env = {
            **os.environ,
            "SPEAKOUT_WP_CORE": str(CORE),
            "SPEAKOUT_WP_DB_NAME": self.database,
            "SPEAKOUT_WP_DB_HOST": MARIADB,
            "SPEAKOUT_WP_CONTENT_DIR": str(content),
            "SPEAKOUT_WP_URL": url,
        }
        self._sql(f"CREATE DATABASE `{self.database}` CHARACTER SET utf8mb4")

    def _sql(self, statement: str) -> None:
        host, _, port = MARIADB.partition(":")
        code = (
            f"$m = new mysqli({json.dumps(host)}, 'root', '', '', {int(port or 3306)});"
            f"if (!$m->query({json.dumps(statement)})) {{ fwrite(STDERR, $m->error); exit(1); }}"
        )
        result = subprocess.run([PHP, "-r", code], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, f"MariaDB at {MARIADB}: {result.stderr or result.stdout}"

    def raw(self, action: str, argument: str = "") -> str:
        result = subprocess.run(
            [PHP, str(HELPER), action, argument], capture_output=True, text=True, env=self.env, timeout=300
        )
        assert result.returncode == 0, f"wordpress.php {action}: {result.stderr or result.stdout[:2000]}"
        return result.stdout

    def run(self, action: str, argument: str = ""):
        return json.loads(self.raw(action, argument))

    def drop(self) -> None:
        self._sql(f"DROP DATABASE IF EXISTS `{self.database}`")
