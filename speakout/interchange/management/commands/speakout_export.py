"""``speakout export --format wxr|json [--output FILE]``: the whole site in one file.

A WXR export then prints its report on standard error: what it wrote, and what WordPress will
refuse or change when it imports the file.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand

from speakout.interchange.json_export import export_json
from speakout.interchange.wxr_export import export_wxr
from speakout.net.files import open_private


class Command(BaseCommand):
    help = "Export the site as WXR 1.2 (WordPress reads it) or as JSON (everything)."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["wxr", "json"], default="wxr")
        parser.add_argument("--output", "-o", help="file to write (default: standard output)")

    def handle(self, *args, **options):
        exporter = export_wxr if options["format"] == "wxr" else export_json
        if options["output"]:
            path = Path(options["output"])
            partial = path.with_name(path.name + ".partial")
            with open_private(partial, "w", encoding="utf-8") as out:
                writer = exporter(out)
            partial.replace(path)
            if options["verbosity"]:
                self.stderr.write(f"Wrote {path}")
        else:
            writer = exporter(sys.stdout)
        report = getattr(writer, "report", None)
        if report is not None and options["verbosity"]:
            for line in report.lines():
                self.stderr.write(line)
