"""Leaving WordPress.com, the whole way in Chromium: an administrator uploads a real WordPress
export and its media export on the admin's Import screen, the worker imports it, the old
permalink answers with the report and its threaded replies, a guest replies, a moderator
approves, and the reply is published. Then `speakout backup`, a new data folder, `speakout
restore`, and the restored site serves the same bytes: pages, replies, old links and media.
"""

from __future__ import annotations

import io
import re
import tarfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from PIL import Image

from tests.browser.helpers import fill_guest_form, reply_id_with_text, wait_out_the_time_trap
from tests.helpers import word_marker
from tests.integration.server import new_server

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("server")]

TESTDATA = Path(__file__).resolve().parents[2].parent / "shared" / "testdata"
EXPORT = TESTDATA / "wordpress" / "themeunittestdata.wordpress.xml"
OLD_PERMALINK = "/2012/01/03/template-comments/"
OLD_LINKS = [OLD_PERMALINK, "/2013/01/10/markup-image-alignment/", "/about/page-with-comments/"]
ATTACHMENT = re.compile(r"<wp:attachment_url>https?://[^/]+/(\d{4}/\d{2}/[^<]+\.(?:jpg|gif))</wp:attachment_url>")
# What may differ between two servings of one page: per-request tokens, and fill markers signed
# with the data folder's own secret key.
TOKENS = re.compile(r'(name="(?:csrfmiddlewaretoken|form_token|submission_id)" value=")[^"]*"|fill:[A-Za-z0-9_:.\-]+')


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


RAW = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirect())


def fetch(url: str) -> tuple[int, str, bytes]:
    """(status, Location, body) as an anonymous reader's first request gets them."""
    try:
        with RAW.open(url, timeout=30) as response:
            return response.status, response.headers.get("Location", ""), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location", ""), error.read()


def media_export(path: Path) -> int:
    """WordPress.com's "Export media library" download for the export: one small picture for
    each image attachment, in year folders inside a wrapping folder. Returns how many."""
    names = sorted(set(ATTACHMENT.findall(EXPORT.read_text(encoding="utf-8"))))
    with tarfile.open(path, "w") as tar:
        for number, name in enumerate(names):
            buffer = io.BytesIO()
            kind = "GIF" if name.endswith(".gif") else "JPEG"
            Image.new("RGB", (64, 40), (number * 7 % 256, 90, 160)).save(buffer, format=kind)
            info = tarfile.TarInfo(f"wpthemetestdata-media/{name}")
            info.size = buffer.tell()
            buffer.seek(0)
            tar.addfile(info, buffer)
    return len(names)


def admin_login(output: str) -> tuple[str, str]:
    user = re.search(r"^\s+user:\s+(\S+)\s*$", output, re.MULTILINE)
    password = re.search(r"^\s+password:\s+(\S+)\s*$", output, re.MULTILINE)
    assert user and password, output
    return user.group(1), password.group(1)


def sign_in(context, user: str, password: str):
    page = context.new_page()
    page.goto("/admin/login/")
    page.fill("input[name=login]", user)
    page.fill("input[name=password]", password)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/admin/$"))
    return page


def snapshot(server) -> dict[str, tuple[int, str, bytes]]:
    """Every old link (unfollowed), the pages they lead to, and every picture on those pages."""
    seen: dict[str, tuple[int, str, bytes]] = {}
    pages = ["/", "/reports/"]
    for link in OLD_LINKS:
        seen[link] = fetch(server.url(link))
        status, location, _body = seen[link]
        assert status in (200, 301, 302), (link, status)
        if status != 200:
            pages.append(location.removeprefix(server.base_url))
    for path in pages:
        seen[path] = fetch(server.url(path))
        assert seen[path][0] == 200, (path, seen[path][0])
        html = seen[path][2].decode()
        for source in re.findall(r'<img[^>]+src="(/[^"]+)"', html):
            seen[source] = fetch(server.url(source))
            assert seen[source][0] == 200, (source, seen[source][0])
    return seen


def without_tokens(body: bytes) -> bytes:
    return TOKENS.sub(lambda match: (match.group(1) or "fill:") + "…", body.decode(errors="replace")).encode()


def difference(a: bytes, b: bytes) -> str:
    at = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    return f"before …{a[max(0, at - 300) : at + 200]!r}… after …{b[max(0, at - 300) : at + 200]!r}…"


def test_from_wordpress_export_to_a_restored_site(chromium, tmp_path, artifact_path):
    first = new_server(tmp_path / "first")
    second = None
    try:
        user, password = admin_login(first.succeed("setup", "--no-demo"))
        archive = tmp_path / "media-export.tar"
        pictures = media_export(archive)
        assert pictures > 20
        first.start()
        context = chromium.new_context(base_url=first.base_url, locale="en-GB")
        context.set_default_timeout(30_000)

        # The administrator uploads both files on Settings → Import and waits for the worker.
        admin = sign_in(context, user, password)
        admin.goto("/admin/import/")
        admin.set_input_files("input[name=file]", str(EXPORT))
        admin.set_input_files("input[name=media]", str(archive))
        admin.get_by_role("button", name="Start the import").click()
        admin.wait_for_url(re.compile(r"/admin/import/\d+/$"))
        deadline = time.monotonic() + 180
        while "Done" not in admin.locator("#import-status").inner_text():
            assert "Failed" not in admin.locator("#import-status").inner_text(), admin.content()
            assert time.monotonic() < deadline, "the import did not finish within 180 s"
            admin.wait_for_timeout(1000)
            admin.reload()
        result = admin.locator("#import-result").inner_text()
        assert "report created: 58" in result and "reply created: 33" in result, result
        assert f"attachment created: {pictures}" in result, result

        # A reader follows an old link: the report and its threaded replies.
        guest_context = chromium.new_context(base_url=first.base_url, locale="en-GB")
        guest_context.set_default_timeout(30_000)
        guest = guest_context.new_page()
        guest.goto(OLD_PERMALINK)
        opened = time.monotonic()
        assert guest.url == first.url("/reports/template-comments/")
        assert guest.locator("h1").inner_text() == "Template: Comments"
        assert guest.locator("#discussion ol.replies--nested article.reply").count() >= 5, "threaded"
        assert "John Γιάννης Doe Κάποιος" in guest.locator("#discussion").inner_text()

        # A guest replies; the reply waits; a moderator approves it; everyone sees it.
        marker = word_marker()
        text = f"Glad these came across from the old site ({marker})."
        fill_guest_form(guest, "Wren", f"wren-{marker}@example.org", text)
        wait_out_the_time_trap(opened)
        guest.click("#respond button[type=submit]")
        guest.locator("article.reply--held", has_text=text).wait_for()
        reply_id = reply_id_with_text(guest, text)
        assert text.encode() not in fetch(first.url("/reports/template-comments/"))[2]
        admin.goto("/admin/replies/pending/")
        admin.click(f"button[name=single][value='approve:{reply_id}']")
        admin.wait_for_load_state()
        assert admin.locator(f"button[name=single][value='approve:{reply_id}']").count() == 0
        reader = chromium.new_context(base_url=first.base_url).new_page()
        reader.goto(OLD_PERMALINK)
        assert reader.locator(f"#reply-{reply_id}").inner_text().count(text) == 1
        # The imported pictures are the site's own: nothing is asked of another origin.
        reader.goto("/2013/01/10/markup-image-alignment/")
        sources = reader.eval_on_selector_all("main img", "(images) => images.map((i) => i.src)")
        assert sources and all(source.startswith(first.base_url + "/") for source in sources), sources
        reader.context.close()
        guest_context.close()
        context.close()

        before = snapshot(first)
        backup = tmp_path / "site-backup.tar.gz"
        first.succeed("backup", "--output", str(backup))
        first.stop()

        # A new data folder (and database) on the same address: restore, serve, compare.
        second = new_server(tmp_path / "second")
        second.port = first.port
        second.env["SPEAKOUT_PORT"] = str(first.port)
        output = second.succeed("restore", str(backup))
        assert "Restored" in output or "restored" in output, output
        second.start()
        after = snapshot(second)

        assert sorted(after) == sorted(before)
        for path, (status, location, body) in before.items():
            assert after[path][:2] == (status, location), path
            restored, served = without_tokens(after[path][2]), without_tokens(body)
            if restored != served:
                name = "restore-" + re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")
                artifact_path(f"{name}-before", ".html").write_bytes(served)
                artifact_path(f"{name}-after", ".html").write_bytes(restored)
            assert restored == served, f"{path} differs after the restore: {difference(served, restored)}"
        assert text.encode() in before["/reports/template-comments/"][2]
    finally:
        first.cleanup()
        if second is not None:
            second.cleanup()
