"""The safety checks, listed in the discussion's policy pipeline (see speakout/settings.py)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from speakout.discussion.policy import Check, Decision, Verdict

from . import app_settings
from .detect import ADDRESS, EMAIL, NAME, PHONE, find_personal_data
from .models import ReplyAssessment, SafetySettings
from .spam import features, model_version_keys, scoring_model

# The fields a reader sees (the email field is never shown, so it is not checked).
FIELDS = (("name", gettext_lazy("name")), ("website", gettext_lazy("website")), ("body", gettext_lazy("reply")))


def looks_like(kind: str, text: str) -> str:
    return {
        PHONE: _("“%(text)s” looks like a phone number"),
        EMAIL: _("“%(text)s” looks like an email address"),
        ADDRESS: _("“%(text)s” looks like a street address"),
        # Never the name itself: the refusal would read the protected list out to whoever guesses.
        NAME: _("It names someone this site protects"),
    }[kind] % {"text": text}


def kind_label(kind: str) -> str:
    return {
        PHONE: _("a phone number"),
        EMAIL: _("an email address"),
        ADDRESS: _("a street address"),
        NAME: _("a protected name"),
    }[kind]


def safety_settings(submission) -> SafetySettings:
    """The safety settings, read once per submission however many checks ask."""
    settings = submission.extra.get("safety_settings")
    if settings is None:
        settings = submission.extra["safety_settings"] = SafetySettings.load()
    return settings


def _remember(submission, reply, **values) -> None:
    """Keep what a check found on the new reply's assessment: one row, created by the first
    check that has something to keep (the reply is new, so there is none yet)."""
    assessment = submission.extra.get("assessment")
    if assessment is None:
        submission.extra["assessment"] = ReplyAssessment.objects.create(reply=reply, **values)
    else:
        ReplyAssessment.objects.filter(pk=assessment.pk).update(**values)


class PersonalDataCheck(Check):
    """Personal data in what readers will see: warn first; if the writer confirms, hold."""

    code = "personal_data"

    def shared_keys(self):
        return [SafetySettings.CACHE_KEY]

    def findings(self, submission) -> dict[str, list]:
        names = safety_settings(submission).protected_name_list
        found = {}
        for field, _label in FIELDS:
            text = getattr(submission, field, "") or ""
            hits = find_personal_data(text, protected_names=names, regions=app_settings.PHONE_REGIONS)
            if hits:
                found[field] = hits
        return found

    def check(self, submission):
        if not safety_settings(submission).personal_data_guard:
            return None
        found = self.findings(submission)
        submission.extra["personal_data"] = found
        if not found:
            return None
        if self.code in submission.extra.get("confirm", ()):
            where = []
            for field, label in FIELDS:
                kinds = list(dict.fromkeys(hit.kind for hit in found.get(field, [])))
                if kinds:
                    where.append(
                        _("%(what)s in the %(field)s")
                        % {"what": ", ".join(kind_label(kind) for kind in kinds), "field": label}
                    )
            return Verdict(
                Decision.HOLD,
                self.code,
                _("Posted anyway with personal data: %(where)s.") % {"where": "; ".join(where)},
            )
        field = next(name for name, _label in FIELDS if name in found)
        first_of_kind = {}
        for hit in found[field]:
            first_of_kind.setdefault(hit.kind, hit.text)
        what = "; ".join(looks_like(kind, text) for kind, text in first_of_kind.items())
        return Verdict(
            Decision.REJECT,
            self.code,
            _(
                "%(what)s — people here may be put at risk. Please take it out, or tick “Post anyway” "
                "and a moderator will read your reply before it appears."
            )
            % {"what": what},
            field=field,
            confirm=_("Post anyway: a moderator will read it first"),
        )

    def accepted(self, submission, reply):
        found = submission.extra.get("personal_data")
        if found:
            _remember(
                submission,
                reply,
                personal_data=[{"field": field, "kind": hit.kind} for field, hits in found.items() for hit in hits],
            )


RULE_FEATURES = {
    "~links:3+": gettext_lazy("3 or more links"),
    "~links:2": gettext_lazy("2 links"),
    "~links:1": gettext_lazy("1 link"),
    "~links:0": gettext_lazy("no links"),
    "~caps": gettext_lazy("mostly capitals"),
    "~shouting!": gettext_lazy("many exclamation marks"),
    "~has-website": gettext_lazy("gives a website"),
    "~short": gettext_lazy("very short"),
}


def describe_feature(token: str) -> str:
    if token in RULE_FEATURES:
        return str(RULE_FEATURES[token])
    kind, _sep, value = token.partition(":")
    if kind == "~domain":
        return _("links to %(domain)s") % {"domain": value}
    if kind == "~tld":
        return _("links to .%(tld)s addresses") % {"tld": value}
    if kind == "~website":
        return _("website %(domain)s") % {"domain": value}
    if kind == "~name":
        return _("name “%(word)s”") % {"word": value}
    return f"“{token}”"


def spam_message(probability: float, reasons: list[str]) -> str:
    reasons_text = ", ".join(describe_feature(token) for token in reasons)
    return _("Spam score %(percent)d%% (%(reasons)s).") % {
        "percent": round(probability * 100),
        "reasons": reasons_text or "—",
    }


class SpamScoreCheck(Check):
    """The local spam model's score, with the rule features it learnt, as one verdict."""

    code = "spam_score"

    def shared_keys(self):
        return [SafetySettings.CACHE_KEY, *model_version_keys()]

    def check(self, submission):
        settings = safety_settings(submission)
        if not settings.spam_filter:
            return None
        score = scoring_model().score(features(submission.body, submission.name, submission.website))
        if score is None:
            return None  # not enough decisions yet to say anything
        submission.extra["spam_score"] = score
        percent = round(score.probability * 100)
        message = spam_message(score.probability, score.reasons)
        if settings.spam_score and percent >= settings.spam_score:
            return Verdict(Decision.SPAM, self.code, message)
        if settings.spam_hold_score and percent >= settings.spam_hold_score:
            return Verdict(Decision.HOLD, self.code, message)
        return None

    def accepted(self, submission, reply):
        score = submission.extra.get("spam_score")
        if score is not None:
            _remember(submission, reply, spam_score=score.probability, spam_reasons=score.reasons)
