"""Words for the moderation queue: what the spam filter and the personal-data guard found."""

from __future__ import annotations

from django import template

from ..checks import FIELDS, describe_feature, kind_label

register = template.Library()


@register.filter
def spam_reasons(tokens) -> str:
    return ", ".join(describe_feature(str(token)) for token in tokens or [])


@register.filter
def personal_data(items) -> str:
    """[{"field": "body", "kind": "phone"}, ...] as "a phone number in the reply; ..."."""
    labels = dict(FIELDS)
    seen = []
    for item in items or []:
        key = (item.get("field"), item.get("kind"))
        if key not in seen and key[0] in labels:
            seen.append(key)
    return "; ".join(f"{kind_label(kind)} ({labels[field]})" for field, kind in seen)
