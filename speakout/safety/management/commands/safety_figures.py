"""Measure the personal-data guard and the spam filter on our labelled sets and write the
figures into docs/safety.md (between the "figures" markers). Needs no database: the spam model
is trained in memory on the same split the tests use."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from speakout.safety.evaluation import (
    load_examples,
    load_spam_examples,
    score_examples,
    spam_accuracy,
    split_spam_examples,
)
from speakout.safety.spam import NaiveBayes, features

BEGIN, END = "<!-- safety-figures:begin -->", "<!-- safety-figures:end -->"


def figures(data_dir: Path) -> str:
    examples = load_examples(data_dir / "personal_data.tsv")
    scores, _mistakes = score_examples(examples)
    lines = [
        f"Personal-data guard, {len(examples)} labelled examples "
        f"({sum(e.language == 'en' for e in examples)} English, {sum(e.language == 'es' for e in examples)} Spanish):",
        "",
        "| Kind | Examples with it | Precision | Recall |",
        "|---|---|---|---|",
    ]
    for kind, score in scores.items():
        present = score.true_positives + score.false_negatives
        lines.append(f"| {kind} | {present} | {score.precision:.1%} | {score.recall:.1%} |")
    spam_examples = load_spam_examples(data_dir / "spam.tsv")
    train, held_out = split_spam_examples(spam_examples)
    model = NaiveBayes()
    before = spam_accuracy(model, held_out)
    for example in train:
        model.learn(features(example.text), spam=example.spam)
    after = spam_accuracy(model, held_out)
    lines += [
        "",
        f"Spam filter, {len(spam_examples)} labelled replies ({sum(e.spam for e in spam_examples)} spam), "
        f"trained on {len(train)} decisions and measured on the {len(held_out)} held out:",
        "",
        "| | Accuracy on the held-out replies |",
        "|---|---|",
        f"| Before any decision | {before:.1%} |",
        f"| After the decisions | {after:.1%} |",
    ]
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Measure the safety checks on the labelled sets and write the figures into docs/safety.md."

    def add_arguments(self, parser):
        parser.add_argument("--data", default=str(Path(settings.BASE_DIR) / "tests/safety/data"))
        parser.add_argument("--doc", default=str(Path(settings.BASE_DIR) / "docs/safety.md"))

    def handle(self, *args, data, doc, **options):
        text = figures(Path(data))
        path = Path(doc)
        content = path.read_text(encoding="utf-8")
        block = f"{BEGIN}\n{text}\n{END}"
        content = re.sub(re.escape(BEGIN) + r".*?" + re.escape(END), lambda _m: block, content, flags=re.S)
        path.write_text(content, encoding="utf-8")
        self.stdout.write(text)
