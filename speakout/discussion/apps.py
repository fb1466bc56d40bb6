from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DiscussionConfig(AppConfig):
    name = "speakout.discussion"
    label = "speakout_discussion"
    verbose_name = _("Discussion")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_delete, post_save

        from speakout.net import sharedreads

        from . import checks  # noqa: F401  (registers the system checks)
        from .forms import forget_staff_names
        from .services import reply_post_keys

        sharedreads.prefetch(reply_post_keys)

        # Staff names are reserved in the reply form; their cached list goes with any user change.
        User = get_user_model()
        post_save.connect(forget_staff_names, sender=User, dispatch_uid="speakout-discussion-staff-saved")
        post_delete.connect(forget_staff_names, sender=User, dispatch_uid="speakout-discussion-staff-deleted")
