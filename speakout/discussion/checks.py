"""System checks: a bad discussion setting fails at startup, not on a reader's first reply."""

from django.core import checks
from django.utils.module_loading import import_string

from . import app_settings


@checks.register()
def check_policy_checks(app_configs=None, **kwargs):
    from .html import ReplyRenderer
    from .policy import Check

    errors = []
    for path in app_settings.POLICY_CHECKS:
        try:
            check_class = import_string(path)
        except ImportError as error:
            errors.append(
                checks.Error(f"Cannot import the reply check {path!r}: {error}", id="speakout_discussion.E001")
            )
            continue
        if not (isinstance(check_class, type) and issubclass(check_class, Check)):
            errors.append(
                checks.Error(
                    f"{path!r} is not a subclass of speakout.discussion.policy.Check.", id="speakout_discussion.E002"
                )
            )
    try:
        renderer = import_string(app_settings.REPLY_RENDERER)
    except ImportError as error:
        errors.append(checks.Error(f"Cannot import the reply renderer: {error}", id="speakout_discussion.E003"))
    else:
        if not (isinstance(renderer, type) and issubclass(renderer, ReplyRenderer)):
            errors.append(
                checks.Error("The reply renderer must subclass ReplyRenderer.", id="speakout_discussion.E003")
            )
    return errors
