import pytest

from tests.discussion import helpers as discussion
from tests.helpers import SiteBuilder
from tests.integration.server import free_port
from tests.outbox.helpers import SMTPServer


def pytest_collection_modifyitems(items):
    """Every transactional test keeps the data the migrations made (Wagtail's root page, site and
    locales, the default removal notices): its flush would otherwise leave an empty database to
    the tests that run after it in the same worker, in whatever order xdist's groups arrive."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        transactional = (marker is not None and marker.kwargs.get("transaction")) or "transactional_db" in getattr(
            item, "fixturenames", ()
        )
        if transactional and not (marker is not None and marker.kwargs.get("serialized_rollback")):
            kwargs = dict(marker.kwargs) if marker is not None else {}
            item.add_marker(
                pytest.mark.django_db(**{**kwargs, "transaction": True, "serialized_rollback": True}), False
            )


@pytest.fixture(autouse=True)
def _migration_data(request):
    """Put the migrations' data back when a transactional test before this one flushed it (its
    own set-up reloads it; a test in a transaction does not)."""
    marker = request.node.get_closest_marker("django_db")
    in_a_transaction = marker is not None and not marker.kwargs.get("transaction")
    if not (in_a_transaction or (marker is None and "db" in request.fixturenames)):
        yield
        return
    request.getfixturevalue("_django_db_helper" if marker is not None else "db")
    from django.db import connection
    from wagtail.models import Page

    contents = getattr(connection, "_test_serialized_contents", None)
    if contents and not Page.objects.exists():
        connection.creation.deserialize_db_from_string(contents)
    yield


@pytest.fixture
def site_builder(db):
    """A factory for a small publishing tree: home page, reports index, reports and pages."""
    return SiteBuilder()


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: the database is rolled back between tests (ids are
    reused), so pages and fragments cached by an earlier test must not answer a later one."""
    from django.core.cache import cache

    from speakout.pagecache import versions

    cache.clear()
    if versions.file_versions() is not None:
        versions.file_versions().clear()


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the site's default language. The test client runs requests in the
    test's own thread, and LocaleMiddleware leaves the last request's language active there, so
    a Spanish page in one test would otherwise turn a later test's messages into Spanish."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture
def rules(db):
    """The discussion settings row, with the first-reply hold off so replies publish."""
    return discussion.publishing_rules()


@pytest.fixture
def thread(db):
    return discussion.report_thread()


@pytest.fixture
def post_reply(rules):
    """Submit a reply through the service with sensible defaults; override any field."""
    return discussion.post


@pytest.fixture
def outbox_settings(settings):
    """Locmem mail, a known sender and send limit, and a clean cache (the limit counts in it);
    the mail tests' conftests use it for every test."""
    from django.core.cache import cache

    cache.clear()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.DEFAULT_FROM_EMAIL = "Speakout <speakout@example.org>"
    settings.SPEAKOUT_EMAIL_RATE_PER_MINUTE = 60
    yield settings
    cache.clear()


@pytest.fixture
def smtp_server(settings):
    """A running SMTP server; Django's SMTP backend points at it, without TLS or credentials."""
    server = SMTPServer(port=free_port())
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    yield server
    server.stop()


@pytest.fixture
def subscribe(db):
    """Make a subscription, confirmed unless told otherwise."""

    from django.utils import timezone

    from speakout.subscriptions import services
    from speakout.subscriptions.models import Subscription

    def make(email, *, thread=None, confirmed=True, **kwargs):
        """Unconfirmed: through ``request_subscription`` (so with its confirmation mail).
        Confirmed: a row as it is once confirmed, without mail, so tests count only theirs."""
        kind = services.Kind.THREAD if thread is not None else services.Kind.POSTS
        if not confirmed:
            return services.request_subscription(email, kind=kind, thread=thread, **kwargs)
        category = kwargs.get("category", "")
        return Subscription.objects.create(
            email=services.normalise_email(email),
            kind=kind,
            thread=thread,
            target=Subscription.target_for(kind, thread, category),
            confirmed_at=timezone.now(),
            **kwargs,
        )

    return make


@pytest.fixture
def redis(settings):
    """The default cache in a real Redis, and the page cache's versions there too, as production
    runs them with PostgreSQL (``SPEAKOUT_TEST_REDIS_URL``); this test's keys are deleted after."""
    from tests.sharedcache import forget, redis_in_settings

    shared = redis_in_settings(settings)
    yield shared
    forget(shared)
