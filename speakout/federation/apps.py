from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FederationConfig(AppConfig):
    name = "speakout.federation"
    label = "speakout_federation"
    verbose_name = _("Federation")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from speakout.discussion.html import IDENTITY_SOURCES
        from speakout.discussion.views import FORM_OFFERS

        from . import receivers, replies_out  # noqa: F401  (reports and members' replies go to followers)
        from .identities import reply_identities

        if replies_out.offered not in FORM_OFFERS["federate"]:
            FORM_OFFERS["federate"].append(replies_out.offered)

        if reply_identities not in IDENTITY_SOURCES:
            IDENTITY_SOURCES.append(reply_identities)

        # The "Fediverse" tab of the moderation queue, and "Block domain…" beside its rows.
        from speakout.discussion import moderation

        from .moderation import QUEUE, row_links

        moderation.add_queue(QUEUE)
        if row_links not in moderation.ROW_LINKS:
            moderation.ROW_LINKS.append(row_links)
