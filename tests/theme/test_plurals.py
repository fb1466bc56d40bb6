"""A number followed by the word it counts is a plural message (ngettext, blocktrans count):
Arabic has six forms, Spanish three, and "%(count)d answers" is wrong for 1 in English too.

The check reads the Spanish catalog (every catalog holds the same messages; test_i18n.py keeps
them in step with the code): an entry without a plural whose number placeholder is followed by a
word fails, unless listed below as a number that counts no word."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.utils import translation

from tests.theme.catalogs import LOCALE_DIR, parse_po

# A placeholder, then a space and a word.
COUNTED = re.compile(r"%\((?P<name>\w+)\)[ds] (?P<word>[^\W\d_]+)")
# The placeholders that hold a count (any %(...)d does too).
COUNTS = {"count", "counter", "limit_value", "seconds", "minutes", "hours", "days"}
COUNTS |= {"items", "replies", "found", "bylines", "accounts"}
# Counts followed by a word they do not count.
NOT_COUNTING = {
    ("seconds", "s"),  # "%(seconds)s s left": a unit symbol
    # These hold a phrase already counted by ngettext ("3 items"), followed by a conjunction.
    ("bylines", "and"),
    ("items", "and"),
    ("replies", "so"),
}


def test_every_counted_word_is_a_plural_message():
    entries = parse_po(Path(LOCALE_DIR) / "es" / "LC_MESSAGES" / "django.po")
    wrong = []
    for entry in entries:
        if entry.msgid_plural is not None or entry.is_header:
            continue
        for match in COUNTED.finditer(entry.msgid):
            name, word = match["name"], match["word"]
            is_count = name in COUNTS or match[0].startswith(f"%({name})d")
            if not is_count or (name, word) in NOT_COUNTING:
                continue
            wrong.append(f"{entry.path}:{entry.line} {entry.msgid!r}")
    assert not wrong, "use ngettext / blocktrans count for:\n" + "\n".join(wrong)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "language, count, expected",
    [
        ("en", 2, "2 answers to your replies to “Housing”"),
        ("ar", 2, "ردّان"),
        ("ar", 3, "ردود"),
        ("ar", 11, "ردًّا"),
        ("es", 2, "2 respuestas"),
    ],
)
def test_the_answers_digest_subject_counts_in_the_readers_language(language, count, expected):
    from speakout.subscriptions.services import answers_subject

    with translation.override(language):
        assert expected in answers_subject(count, "Housing")
