"""docs/moving-from-wordpress.md, run as written: every command in its `sh` boxes, in order, in
one shell, on a new data folder, with files shaped like WordPress.com's downloads (the content
export as a .zip, the media export as a .tar, the subscriber list as CSV). Then the site holds
everything the guide promises."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from tests.integration.server import new_server

pytestmark = [pytest.mark.server, pytest.mark.xdist_group("first-hour")]

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "moving-from-wordpress.md"
EXPORT = ROOT.parent / "shared" / "testdata" / "wordpress" / "themeunittestdata.wordpress.xml"


def guide_commands() -> list[str]:
    """The commands of the guide's ```sh blocks, continuation lines joined, comments dropped."""
    blocks = re.findall(r"^```sh\n(.*?)^```", GUIDE.read_text(encoding="utf-8"), re.MULTILINE | re.DOTALL)
    commands = []
    for block in blocks:
        for line in block.replace("\\\n", " ").splitlines():
            if line.strip() and not line.strip().startswith("#"):
                commands.append(line.strip())
    return commands


def downloads(folder: Path) -> None:
    """What WordPress.com hands over, named as the guide names it."""
    with zipfile.ZipFile(folder / "oldsite.wordpress.com-2024-01-01-00_00_00.zip", "w") as archive:
        archive.write(EXPORT, "oldsite.wordpress.2024-01-01.000.xml")
    picture = io.BytesIO()
    Image.new("RGB", (40, 30), (90, 120, 40)).save(picture, format="JPEG")
    with tarfile.open(folder / "media-export.tar", "w") as archive:
        info = tarfile.TarInfo("oldsite-media/2008/06/canola2.jpg")
        info.size = len(picture.getvalue())
        archive.addfile(info, io.BytesIO(picture.getvalue()))
    (folder / "subscribers.csv").write_text(
        "Email,Since,Email subscription\nreader@example.org,2022-02-03 04:05:06,Subscribed\n"
        "maybe@example.org,2023-01-01 00:00:00,Not confirmed\n",
        encoding="utf-8",
    )


def test_the_guide_says_what_happens_to_existing_data():
    text = GUIDE.read_text(encoding="utf-8")
    assert "Nothing you already have is ever deleted or replaced." in text
    assert guide_commands()[:2] == [
        "unzip -o oldsite.wordpress.com-2024-01-01-00_00_00.zip -d export",
        'export SPEAKOUT_DATA_DIR="$PWD/speakout-data"',
    ]


def test_every_command_of_the_guide(tmp_path):
    commands = guide_commands()
    assert any(command.startswith("speakout import --media") for command in commands)
    server = new_server(tmp_path)  # its environment (and, on PostgreSQL, a database of its own)
    work = tmp_path / "work"
    work.mkdir()
    downloads(work)
    env = dict(server.env)
    env.pop("SPEAKOUT_DATA_DIR")  # the guide sets it
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    script = "set -eu\n" + "\n".join(f"echo '$ {c}'\n{c}" for c in commands)
    check = (
        'speakout manage shell -c "from speakout.publishing.models import ReportPage; '
        "from speakout.discussion.models import Reply; from wagtail.contrib.redirects.models import Redirect; "
        "from wagtail.images.models import Image; from speakout.subscriptions.services import active; "
        "print('site', ReportPage.objects.count(), Reply.objects.count(), Redirect.objects.count(), "
        "Image.objects.count(), sorted(active().values_list('email', flat=True)))\"\n"
    )
    try:
        result = subprocess.run(
            ["bash", "-c", script + "\n" + check],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        output = result.stdout + result.stderr
        assert result.returncode == 0, output
        assert "Traceback" not in output, output
        assert "Dry run" in output or "dry run" in output.lower(), output
        assert (work / "first-backup.tar.gz").is_file()
        site = re.search(r"^site (\d+) (\d+) (\d+) (\d+) (.*)$", output, re.MULTILINE)
        assert site, output
        reports, replies, redirects, images, subscribers = site.groups()
        assert (int(reports), int(replies)) == (58, 33)
        assert int(redirects) > 200 and int(images) == 1
        assert subscribers == "['reader@example.org']"
    finally:
        server.cleanup()
