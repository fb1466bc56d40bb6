"""An organisation's first hour, as the README tells it: real `speakout` commands on a new data
folder, then `speakout run`, and every imported page, reply and old link is still there.

Each test has a data folder (and, on PostgreSQL, a database) of its own and walks one order:
``setup --no-demo`` → ``import`` → ``run``; ``import`` on a folder nothing has set up → ``run``.
(`run` first, then `import`, is in tests/publishing/test_start_up_keeps_content.py.)
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.integration.server import new_server

pytestmark = [pytest.mark.server, pytest.mark.xdist_group("first-hour")]

TESTDATA = Path(__file__).resolve().parents[2].parent / "shared" / "testdata"
EXPORT = TESTDATA / "wordpress" / "themeunittestdata.wordpress.xml"
OLD_PERMALINK = "/2012/01/03/template-comments/"
COUNTS = (
    "from wagtail.models import Page; from wagtail.contrib.redirects.models import Redirect; "
    "from speakout.discussion.models import Reply; "
    "print('counts', Page.objects.count(), Reply.objects.count(), Redirect.objects.count(), "
    "sorted(Page.objects.values_list('url_path', flat=True)))"
)


def counts(server) -> str:
    output = server.succeed("manage", "shell", "-c", COUNTS)
    return re.search(r"^counts .*$", output, re.MULTILINE).group(0)


def check_imported_site(server, before: str) -> None:
    """Serve the folder with `speakout run` and find everything the import brought."""
    server.start()
    assert "Loaded the demo content" not in server.log
    assert "Demo content not loaded: the site already has content" in server.log, server.log
    # The old address redirects (urllib follows) to the imported report and its replies.
    status, _headers, body = server.get(OLD_PERMALINK)
    html = body.decode()
    assert status == 200, (status, html[:500])
    assert f'<link rel="canonical" href="{server.base_url}/reports/template-comments/"' in html
    assert "Template: Comments" in html
    assert "John Γιάννης Doe Κάποιος" in html, "the imported replies are shown"
    status, _headers, body = server.get("/")
    assert status == 200 and "Theme Unit Test Data" in body.decode()
    server.stop()
    assert counts(server) == before, "nothing was added or removed by `speakout run`"


def test_setup_without_demo_then_import_then_run(tmp_path):
    server = new_server(tmp_path)
    try:
        server.succeed("setup", "--no-demo")
        output = server.succeed("import", "--quiet", str(EXPORT))
        before = counts(server)
        check_imported_site(server, before)
        # The admin made by setup is the one that stays; `run` makes no second one.
        assert "password:" not in server.log
        assert "nothing was imported" not in output
    finally:
        server.cleanup()


def test_import_into_a_new_data_folder_then_run(tmp_path):
    """`speakout import` before anything else brings the database up to date itself."""
    server = new_server(tmp_path)
    try:
        output = server.succeed("import", str(EXPORT))
        assert "report created: 58" in output and "reply created: 33" in output, output
        before = counts(server)
        check_imported_site(server, before)
        assert re.search(r"^\s+password:\s+\S+", server.log, re.MULTILINE), "run still makes an admin"
    finally:
        server.cleanup()
