"""The project's gettext catalogs as the translation tests read them: where they are and a small
.po reader (context, plurals, flags; no polib)."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

import speakout

PACKAGE_DIR = Path(speakout.__file__).resolve().parent
LOCALE_DIR = PACKAGE_DIR / "locale"


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: str = ""
    msgstr_plural: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0
    path: str = ""

    @property
    def is_header(self) -> bool:
        return self.msgid == "" and self.msgctxt is None


def parse_po(path: Path) -> list[Entry]:
    """Parse a gettext .po file: context, plurals and flags; obsolete (#~) entries are skipped."""
    entries: list[Entry] = []
    current: Entry | None = None
    target: str | None = None  # which field continuation lines extend
    pending_flags: set[str] = set()

    def finish():
        nonlocal current, target
        if current is not None:
            entries.append(current)
        current, target = None, None

    def append(value: str):
        if target == "msgid":
            current.msgid += value
        elif target == "msgid_plural":
            current.msgid_plural += value
        elif target == "msgctxt":
            current.msgctxt += value
        elif target == "msgstr":
            current.msgstr += value
        elif target.startswith("msgstr["):
            index = int(target[7:-1])
            current.msgstr_plural[index] = current.msgstr_plural.get(index, "") + value

    keyword = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(".*")\s*$')
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):
            continue
        if line.startswith("#"):
            if current is not None and target is not None and target.startswith("msgstr"):
                finish()  # comments belong to the next entry, even without a blank line between
            if line.startswith("#,"):
                pending_flags |= {flag.strip() for flag in line[2:].split(",") if flag.strip()}
            continue
        match = keyword.match(line)
        if match:
            name, value = match.group(1), ast.literal_eval(match.group(2))
            starts_entry = name == "msgctxt" or (name == "msgid" and target != "msgctxt")
            if starts_entry:
                finish()
                current = Entry(line=number, flags=pending_flags, path=f"{path.parent.parent.name}/{path.name}")
                pending_flags = set()
                if name == "msgctxt":
                    current.msgctxt = ""
            if name == "msgid_plural":
                current.msgid_plural = ""
            target = name
            append(value)
        elif line.startswith('"') and current is not None and target is not None:
            append(ast.literal_eval(line))
        else:
            raise AssertionError(f"{path}:{number}: cannot parse {raw!r}")
    finish()
    return entries
