"""Real mail peers of the bounce processing. Here, a real IMAP server for the bounce mailbox:
Debian's Dovecot (dovecot-imapd), started by the test with its own throwaway configuration and
mail folder on a free loopback port, and mail delivered into it by Dovecot's own LDA, as a mail
server hands mail to it.

These tests do not depend on the database engine: `make test` runs them once, in the
PostgreSQL half (see the Makefile)."""

from __future__ import annotations

import getpass
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.server import free_port, port_accepts_connections, stop_process

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
LDA = "/usr/lib/dovecot/dovecot-lda"
USER, PASSWORD = "bounces", "a-throwaway-password"


@dataclass
class Dovecot:
    root: Path
    config: Path
    port: int
    user: str = USER
    password: str = PASSWORD

    @property
    def url(self) -> str:
        return f"imap://{self.user}:{self.password}@127.0.0.1:{self.port}/INBOX"

    def deliver(self, raw: bytes, sender: str = "") -> None:
        """Deliver a message into the mailbox with dovecot-lda, as Postfix's pipe does."""
        subprocess.run([LDA, "-c", str(self.config), "-d", USER, "-f", sender], input=raw, check=True, timeout=30)


def _config(root: Path, port: int) -> str:
    if os.geteuid() == 0:
        # Dovecot runs its mail processes as an unprivileged user: Debian's package makes these.
        internal, login = "dovecot", "dovenull"
        owner = pwd.getpwnam(internal)
        os.chown(root / "mail", owner.pw_uid, owner.pw_gid)
        chroot = ""
    else:
        internal = login = getpass.getuser()
        owner = pwd.getpwnam(internal)
        chroot = "service imap-login {\n  chroot =\n}\nservice anvil {\n  chroot =\n}\n"
    return f"""
base_dir = {root}/run
state_dir = {root}/state
instance_name = speakout-test-{port}
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
log_path = {root}/dovecot.log
first_valid_uid = 0
default_internal_user = {internal}
default_login_user = {login}
mail_location = maildir:{root}/mail/%n/Maildir
passdb {{
  driver = static
  args = password={PASSWORD}
}}
userdb {{
  driver = static
  args = uid={owner.pw_uid} gid={owner.pw_gid} home={root}/mail/%n
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
{chroot}"""


@pytest.fixture
def dovecot():
    assert os.path.exists(DOVECOT) and os.path.exists(LDA), "dovecot-imapd is missing (.ci/run installs it)"
    root = Path(tempfile.mkdtemp(prefix="speakout-dovecot-"))
    root.chmod(0o755)  # the mail processes run as Dovecot's own user
    for folder in ("run", "state", "mail"):
        (root / folder).mkdir()
    port = free_port()
    config = root / "dovecot.conf"
    config.write_text(_config(root, port))
    process = subprocess.Popen([DOVECOT, "-F", "-c", str(config)], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 15
        while not port_accepts_connections(port):
            if process.poll() is not None or time.monotonic() > deadline:
                log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                stderr = process.stderr.read().decode() if process.poll() is not None else ""
                raise RuntimeError(f"Dovecot did not start: {stderr}{log}")
            time.sleep(0.1)
        yield Dovecot(root=root, config=config, port=port)
    finally:
        stop_process(process)
        shutil.rmtree(root, ignore_errors=True)
