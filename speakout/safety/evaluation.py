"""Measure the personal-data guard on a labelled set (tests/safety/data/personal_data.tsv).

Used by the test that keeps recall up and by ``manage.py safety_figures`` for docs/safety.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .detect import KINDS, find_personal_data

# The "protected names" list the labelled set was written against.
EXAMPLE_PROTECTED_NAMES = ["Tom Okafor", "María José Fernández", "Lucía Ortega", "Aisha Rahman"]


@dataclass
class Example:
    kinds: frozenset[str]
    language: str
    text: str


@dataclass
class Score:
    kind: str
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        present = self.true_positives + self.false_negatives
        return self.true_positives / present if present else 1.0


def _rows(path: Path) -> list[list[str]]:
    """A labelled set's tab-separated rows (label, language, text); blank and # lines skipped."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.split("\t", 2) for line in lines if line.strip() and not line.startswith("#")]


def load_examples(path: Path) -> list[Example]:
    return [
        Example(frozenset() if kinds == "-" else frozenset(kinds.split(",")), language, text)
        for kinds, language, text in _rows(path)
    ]


def score_examples(examples: list[Example]) -> tuple[dict[str, Score], list[tuple[Example, frozenset[str]]]]:
    """Per-kind scores (an example counts once per kind) and the examples it got wrong."""
    scores = {kind: Score(kind) for kind in KINDS}
    mistakes = []
    for example in examples:
        found = frozenset(f.kind for f in find_personal_data(example.text, protected_names=EXAMPLE_PROTECTED_NAMES))
        for kind in KINDS:
            if kind in found and kind in example.kinds:
                scores[kind].true_positives += 1
            elif kind in found:
                scores[kind].false_positives += 1
            elif kind in example.kinds:
                scores[kind].false_negatives += 1
        if found != example.kinds:
            mistakes.append((example, found))
    return scores, mistakes


# The spam filter ------------------------------------------------------------------------------


@dataclass
class SpamExample:
    spam: bool
    language: str
    text: str


def load_spam_examples(path: Path) -> list[SpamExample]:
    return [SpamExample(label == "spam", language, text) for label, language, text in _rows(path)]


def split_spam_examples(examples: list[SpamExample]) -> tuple[list[SpamExample], list[SpamExample]]:
    """Every fourth example is held out for measuring; the rest are "moderation decisions"."""
    return [e for i, e in enumerate(examples) if i % 4], [e for i, e in enumerate(examples) if not i % 4]


def spam_accuracy(model, examples: list[SpamExample], threshold: float = 0.5) -> float:
    """Share of examples the model labels right; with too few decisions it says "not spam"."""
    from .spam import features

    right = 0
    for example in examples:
        score = model.score(features(example.text))
        right += (score is not None and score.probability >= threshold) == example.spam
    return right / len(examples)
