"""A small multinomial naive Bayes spam filter, trained only on this site's moderation decisions.

Why not scikit-learn: it would bring numpy and scipy (tens of megabytes) for a model that is a
pair of word-count tables; the arithmetic below is the textbook one (Laplace smoothing, log
probabilities) and its counts fit in one database row. Nothing here sends text anywhere.

Besides words, a reply gives a few "rule" features (``~links:3+``, ``~caps``, ``~shouting!``...),
so what the rule checks look at also weighs in the score, learnt from the same decisions.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from speakout.discussion.models import ModerationLogEntry, Reply
from speakout.discussion.rendering import count_links
from speakout.net import sharedreads
from speakout.pagecache import versions

from .detect import fold

MAX_VOCABULARY = 20000
MIN_DOCUMENTS = 5  # of each class before the model says anything
_WORD = re.compile(r"[^\W\d_]{2,30}", re.UNICODE)
_DOMAIN = re.compile(r"https?://(?:www\.)?([^/\s:?#]+)", re.IGNORECASE)


def features(body: str, name: str = "", website: str = "") -> Counter:
    """Tokens of a reply: folded words, linked domains and rule features."""
    tokens: Counter = Counter(fold(word) for word in _WORD.findall(body))
    for domain in _DOMAIN.findall(body):
        tokens[f"~domain:{domain.lower()}"] += 1
        tokens[f"~tld:{domain.lower().rsplit('.', 1)[-1]}"] += 1
    links = count_links(body)
    tokens[f"~links:{min(links, 3)}{'+' if links >= 3 else ''}"] += 1
    letters = [char for char in body if char.isalpha()]
    if len(letters) >= 20 and sum(char.isupper() for char in letters) / len(letters) > 0.5:
        tokens["~caps"] += 1
    if body.count("!") >= 3:
        tokens["~shouting!"] += 1
    if website:
        tokens["~has-website"] += 1
        match = _DOMAIN.search(website)
        if match:
            tokens[f"~website:{match.group(1).lower()}"] += 1
    if len(body) < 40:
        tokens["~short"] += 1
    for word in _WORD.findall(name):
        tokens[f"~name:{fold(word)}"] += 1
    return tokens


@dataclass
class Score:
    probability: float
    reasons: list[str]


class NaiveBayes:
    def __init__(self, spam_documents=0, ham_documents=0, spam_tokens=None, ham_tokens=None):
        self.spam_documents = spam_documents
        self.ham_documents = ham_documents
        self.spam_tokens: dict[str, int] = dict(spam_tokens or {})
        self.ham_tokens: dict[str, int] = dict(ham_tokens or {})
        self._totals: tuple[int, int] | None = None

    def totals(self) -> tuple[int, int]:
        """The smoothed token totals of each class, summed over the whole vocabulary once per
        model rather than once per reply scored (``learn`` and ``prune`` forget them)."""
        if self._totals is None:
            vocabulary = len(set(self.spam_tokens) | set(self.ham_tokens)) + 1
            self._totals = (
                sum(self.spam_tokens.values()) + vocabulary,
                sum(self.ham_tokens.values()) + vocabulary,
            )
        return self._totals

    @property
    def ready(self) -> bool:
        return self.spam_documents >= MIN_DOCUMENTS and self.ham_documents >= MIN_DOCUMENTS

    def learn(self, tokens: Counter, spam: bool, weight: int = 1) -> None:
        """Add (weight 1) or take back (weight -1) one document."""
        table = self.spam_tokens if spam else self.ham_tokens
        for token, count in tokens.items():
            value = table.get(token, 0) + weight * count
            if value > 0:
                table[token] = value
            else:
                table.pop(token, None)
        self._totals = None
        if spam:
            self.spam_documents = max(0, self.spam_documents + weight)
        else:
            self.ham_documents = max(0, self.ham_documents + weight)

    def prune(self, size: int = MAX_VOCABULARY) -> None:
        """Keep the most frequent tokens so the row stays small."""
        totals = Counter(self.spam_tokens) + Counter(self.ham_tokens)
        keep = {token for token, _count in totals.most_common(size)}
        self.spam_tokens = {t: c for t, c in self.spam_tokens.items() if t in keep}
        self.ham_tokens = {t: c for t, c in self.ham_tokens.items() if t in keep}
        self._totals = None

    def score(self, tokens: Counter) -> Score | None:
        if not self.ready:
            return None
        spam_total, ham_total = self.totals()
        documents = self.spam_documents + self.ham_documents
        log_odds = math.log(self.spam_documents / documents) - math.log(self.ham_documents / documents)
        contributions: dict[str, float] = {}
        for token, count in tokens.items():
            if token not in self.spam_tokens and token not in self.ham_tokens:
                continue  # unseen words say nothing
            weight = count * (
                math.log((self.spam_tokens.get(token, 0) + 1) / spam_total)
                - math.log((self.ham_tokens.get(token, 0) + 1) / ham_total)
            )
            contributions[token] = weight
            log_odds += weight
        log_odds = max(-50.0, min(50.0, log_odds))
        probability = 1 / (1 + math.exp(-log_odds))
        strongest = sorted((item for item in contributions.items() if item[1] > 0), key=lambda item: -item[1])
        return Score(probability, [token for token, _weight in strongest[:3]])


# Storage ------------------------------------------------------------------------------------


# The model changes when a moderator decides and when it is rebuilt, while every reply is scored
# with it: each process keeps the one it read, with the version (speakout.pagecache.versions, in
# the shared cache) it read just before, and reads the row again once the version has moved.
MODEL_VERSION = "safety-spam-model"
_scoring: tuple[int, NaiveBayes] | None = None


def load_model() -> NaiveBayes:
    """The stored model, read now: a fresh object the caller may change and save."""
    from .models import SpamModel

    row = SpamModel.objects.filter(pk=1).first()
    if row is None:
        return NaiveBayes()
    return NaiveBayes(row.spam_documents, row.ham_documents, row.spam_tokens, row.ham_tokens)


def model_version_keys() -> list[str]:
    """What ``model_version`` reads from the shared cache, for ``sharedreads.read_together``."""
    return [] if versions.file_versions() is not None else [versions.key(MODEL_VERSION)]


def model_version() -> int:
    for value in sharedreads.get_many(model_version_keys()).values():
        return int(value)
    return versions.current([MODEL_VERSION])[MODEL_VERSION]


def scoring_model() -> NaiveBayes:
    """The stored model for scoring, shared by the process until it changes: do not change it."""
    global _scoring
    # The version is read before the row: a model saved after this point moves the version
    # again (after its commit), so an older row is never kept under a newer version.
    version = model_version()
    cached = _scoring
    if cached is not None and cached[0] == version:
        return cached[1]
    model = load_model()
    _scoring = (version, model)
    return model


def save_model(model: NaiveBayes) -> None:
    from .models import SpamModel

    SpamModel.objects.update_or_create(
        pk=1,
        defaults={
            "spam_documents": model.spam_documents,
            "ham_documents": model.ham_documents,
            "spam_tokens": model.spam_tokens,
            "ham_tokens": model.ham_tokens,
            "trained_at": timezone.now(),
        },
    )
    versions.bump(MODEL_VERSION)  # after the write (and again after its commit): see scoring_model


def reply_features(reply: Reply) -> Counter:
    return features(reply.body, reply.author_name, reply.author_website)


def decided_label(reply: Reply) -> str:
    """ "spam" or "ham" for a reply a moderator just put in spam or approved, else ""."""
    return {Reply.Status.SPAM: "spam", Reply.Status.APPROVED: "ham"}.get(reply.status, "")


def retrain() -> NaiveBayes:
    """Rebuild the model from moderators' decisions (the scheduled job): each reply counts with
    the last of its "spam" or "approved" decisions, even if it was later trashed."""
    from .models import ReplyAssessment

    model = NaiveBayes()
    labels: dict[int, str] = {}
    decisions = (
        ModerationLogEntry.objects.filter(actor__isnull=False, action__in=["spam", "approved"], reply__isnull=False)
        .order_by("created_at", "pk")
        .values_list("reply_id", "action")
    )
    for reply_id, action in decisions:
        labels[reply_id] = "spam" if action == "spam" else "ham"
    for reply in Reply.objects.filter(pk__in=labels).only("pk", "body", "author_name", "author_website"):
        model.learn(reply_features(reply), spam=labels[reply.pk] == "spam")
    model.prune()
    with transaction.atomic():
        save_model(model)
        ReplyAssessment.objects.exclude(reply_id__in=labels).exclude(trained_as="").update(trained_as="")
        for label in ("spam", "ham"):
            ids = [pk for pk, value in labels.items() if value == label]
            existing = set(ReplyAssessment.objects.filter(reply_id__in=ids).values_list("reply_id", flat=True))
            ReplyAssessment.objects.filter(reply_id__in=ids).update(trained_as=label)
            ReplyAssessment.objects.bulk_create(
                [ReplyAssessment(reply_id=pk, trained_as=label) for pk in ids if pk not in existing]
            )
    return model


def learn_decision(reply: Reply) -> None:
    """A moderator just approved or marked a reply as spam: teach the model at once."""
    from .models import ReplyAssessment, SpamModel

    label = decided_label(reply)
    if not label:
        return
    with transaction.atomic():
        SpamModel.objects.get_or_create(pk=1)
        SpamModel.objects.select_for_update().get(pk=1)  # one writer at a time
        assessment, _created = ReplyAssessment.objects.get_or_create(reply=reply)
        if assessment.trained_as == label:
            return
        model = load_model()
        tokens = reply_features(reply)
        if assessment.trained_as:
            model.learn(tokens, spam=assessment.trained_as == "spam", weight=-1)
        model.learn(tokens, spam=label == "spam")
        save_model(model)
        assessment.trained_as = label
        assessment.save(update_fields=["trained_as"])
