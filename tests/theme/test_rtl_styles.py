"""Right to left without mirroring by hand: every stylesheet lays out with CSS logical properties
(inline-start/inline-end), so Arabic pages mirror by themselves. A physical side (left, right) in
a rule would stay put in Arabic and put that part of the page on the wrong side."""

from __future__ import annotations

import re
from pathlib import Path

import speakout

PACKAGE_DIR = Path(speakout.__file__).resolve().parent
PHYSICAL = [
    re.compile(r"\b(margin|padding|border|inset|scroll-margin|scroll-padding)-(left|right)\b"),
    re.compile(r"(?<![-\w])(left|right)\s*:"),
    re.compile(r"\b(text-align|float|clear)\s*:\s*(left|right)\b"),
    re.compile(r"\bborder-(top|bottom)-(left|right)-radius\b"),
    # A four-value margin or padding with different right and left values.
    re.compile(
        r"\b(margin|padding)\s*:\s*(?P<top>[^\s;]+)\s+(?P<right>[^\s;]+)\s+(?P<bottom>[^\s;]+)\s+(?P<left>[^\s;!]+)"
    ),
]


def stylesheets() -> list[Path]:
    return sorted(path for path in PACKAGE_DIR.rglob("static/**/*.css"))


def physical_sides(css: str) -> list[str]:
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    found = []
    for number, line in enumerate(css.splitlines(), start=1):
        for pattern in PHYSICAL:
            match = pattern.search(line)
            if match and not ("left" in match.groupdict() and match["left"] == match["right"]):
                found.append(f"{number}: {line.strip()}")
    return found


def test_the_stylesheets_are_found():
    names = {path.name for path in stylesheets()}
    assert {"site.css", "discussion.css", "embed.css", "moderation.css"} <= names


def test_no_stylesheet_uses_a_physical_side():
    problems = {str(path.relative_to(PACKAGE_DIR)): physical_sides(path.read_text()) for path in stylesheets()}
    problems = {path: lines for path, lines in problems.items() if lines}
    assert not problems, f"use logical properties (inline-start/inline-end) instead: {problems}"


def test_the_check_sees_physical_sides():
    assert physical_sides(".a { margin-left: 1rem; }")
    assert physical_sides(".a { position: absolute; right: 0; }")
    assert physical_sides(".a { text-align: right; }")
    assert physical_sides(".a { padding: 0 0 0 1rem; }")
    assert not physical_sides(".a { padding: 0 1rem 0 1rem; margin-inline-start: 1rem; inset-inline-end: 0; }")
    assert not physical_sides("/* margin-left: 1rem */ .a { text-align: start; }")
