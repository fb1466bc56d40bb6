"""Tests find their own text again by a random word in it. A random hex string can hold a run of
digits that the personal-data guard takes for a phone number, and then a test's reply waits for
"Post anyway" instead of appearing (the likely cause of a browser test that failed once): the
words tests use are letters only."""

from __future__ import annotations

from speakout.safety.detect import find_personal_data
from tests.helpers import word_marker

REGIONS = ("ES", "GB", "US")


def test_a_hex_marker_can_look_like_a_phone_number():
    """The failure the helper avoids: one hex marker seen in a failing run's kind of text."""
    assert find_personal_data("A word no page holds: zq3282355163.", protected_names=(), regions=REGIONS)


def test_word_markers_never_look_like_personal_data():
    for length in (8, 10, 32):
        for _ in range(300):
            marker = word_marker(length)
            assert len(marker) == length and marker.isalpha()
            text = f"A word no page holds: zq{marker}."
            assert find_personal_data(text, protected_names=(), regions=REGIONS) == [], text
