"""The personal-data detector measured on our labelled set (data/personal_data.tsv)."""

from pathlib import Path

import pytest

from speakout.safety.detect import find_personal_data
from speakout.safety.evaluation import load_examples, score_examples

DATA = Path(__file__).parent / "data" / "personal_data.tsv"


def test_the_labelled_set_is_big_enough_and_bilingual():
    examples = load_examples(DATA)
    assert len(examples) >= 200
    for language in ("en", "es"):
        ours = [example for example in examples if example.language == language]
        for kind in ("phone", "email", "address", "name"):
            assert sum(kind in example.kinds for example in ours) >= 5, (language, kind)
        assert sum(not example.kinds for example in ours) >= 30, language


def test_recall_and_precision_per_kind():
    scores, mistakes = score_examples(load_examples(DATA))
    assert scores["phone"].recall >= 0.95, mistakes
    assert scores["email"].recall >= 0.95, mistakes
    assert scores["address"].recall >= 0.9, mistakes
    assert scores["name"].recall >= 0.95, mistakes
    for kind, score in scores.items():
        assert score.precision >= 0.9, (kind, mistakes)


@pytest.mark.parametrize(
    "text,kinds",
    [
        ("call 07700 900123", {"phone"}),
        ("ana arroba correo punto es", {"email"}),
        ("12 Harbour Lane", {"address"}),
        ("calle Mayor 5, 3º izq", {"address"}),
        ("JOSÉ   pérez was there", {"name"}),
        ("josé pérezgarcía was there", set()),  # a name only counts on word boundaries
        ("In 2024 we spent €12,500 on 3 reports.", set()),
        ("Thank you for these notes (38157909).", set()),
        ("Móvil 699123456", {"phone"}),
        # An address whose host is an IP literal (a Fediverse profile on a bare address, say)
        # holds no phone number; the same digits outside an address still count.
        ("https://198.51.100.1/users/river", set()),
        ("See http://203.0.113.77:8443/notes/5 and https://[2001:db8::1]/x", set()),
        ("Call 91.234.56.78 tonight", {"phone"}),
        ("https://wa.me/34612345678", {"phone"}),
    ],
)
def test_single_cases(text, kinds):
    found = {finding.kind for finding in find_personal_data(text, protected_names=["José Pérez"])}
    assert found == kinds
