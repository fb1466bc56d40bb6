from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PublishingConfig(AppConfig):
    name = "speakout.publishing"
    label = "speakout_publishing"
    verbose_name = _("Publishing")

    def ready(self):
        from . import cache, discussion  # noqa: F401  (discussion connects the thread-sync receivers)

        cache.connect()

        from . import alerts

        alerts.connect()  # mail to moderators about held and reported replies

        from speakout.spreadsheets import guard_wagtail_exports

        guard_wagtail_exports()

        from django.apps import apps
        from wagtail.contrib.routable_page.models import RoutablePageMixin

        # Wagtail builds a routable page's resolver on first use and stores it on the class while
        # other threads may be reading the class's attributes ("dictionary changed size during
        # iteration", a 500): built here, before any request.
        for model in apps.get_models():
            if issubclass(model, RoutablePageMixin):
                model.get_resolver()

        if apps.is_installed("speakout.subscriptions"):
            from speakout.subscriptions import wagtail as subscriptions

            from .models import ReportPage

            subscriptions.connect(ReportPage)  # new-post notifications on a report's first publication

            from speakout.subscriptions import lists

            lists.register(category_lists)


def category_lists():
    """The categories readers may get new reports of by email, as ``(slug, name)``."""
    from .models import Category

    return Category.objects.values_list("slug", "name")
