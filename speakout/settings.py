"""Speakout's one settings module.

Everything an operator may change comes from environment variables, all of them listed in
``docs/configuration.md`` (and the README's table). Nobody should need to edit this file to run
Speakout: the embedded defaults (SQLite in WAL mode, a local cache, mail written to files) work
on a fresh clone, and production swaps in PostgreSQL, Redis and SMTP through the same variables.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a yes/no value, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from error


def require_package(module: str, setting: str, extra: str) -> None:
    """A setting that needs an optional package stops with the one command that installs it."""
    from importlib.util import find_spec

    if find_spec(module) is None:
        raise ImproperlyConfigured(f'{setting} needs the {module} package: pip install "speakout[{extra}]"')


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_networks(name: str, what: str) -> list[str]:
    """A list of IP addresses or networks; one that is neither stops the start, saying it is not ``what``."""
    networks = env_list(name, [])
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError as error:
            raise ImproperlyConfigured(f"{name}: {network!r} is not {what}") from error
    return networks


PACKAGE_DIR = Path(__file__).resolve().parent
BASE_DIR = PACKAGE_DIR.parent

SPEAKOUT_ENV = env("SPEAKOUT_ENV", "development")
if SPEAKOUT_ENV not in {"development", "production"}:
    raise ImproperlyConfigured("SPEAKOUT_ENV must be 'development' or 'production'")
PRODUCTION = SPEAKOUT_ENV == "production"

DATA_DIR = Path(env("SPEAKOUT_DATA_DIR", str(Path.cwd() / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    key = env("SPEAKOUT_SECRET_KEY")
    if key:
        return key
    if PRODUCTION:
        raise ImproperlyConfigured("SPEAKOUT_SECRET_KEY must be set when SPEAKOUT_ENV=production")
    # The embedded default keeps a generated key in the data folder, so sessions and signed
    # tokens survive restarts without anyone choosing a key by hand.
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(64))
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
# Rotating the key: the old one listed here keeps every signed link and cookie made with it
# valid (sessions, unsubscribe and manage links already mailed, cached pages' fill markers)
# while everything new is signed with the new key. Drop it once those have expired.
SECRET_KEY_FALLBACKS = env_list("SPEAKOUT_SECRET_KEY_FALLBACKS", [])
DEBUG = env_bool("SPEAKOUT_DEBUG", False)

SITE_NAME = env("SPEAKOUT_SITE_NAME", "Speakout")
HOST = env("SPEAKOUT_HOST", "127.0.0.1")
PORT = env_int("SPEAKOUT_PORT", 8000)
# The public address, used for canonical links, feeds and mail. Behind a proxy or CDN it is the
# address readers use, not the one granian listens on.
BASE_URL = env("SPEAKOUT_BASE_URL", f"http://{HOST}:{PORT}").rstrip("/")
_LOCAL_HOSTS = ["127.0.0.1", "localhost", "[::1]", HOST, urlsplit(BASE_URL).hostname or HOST]
ALLOWED_HOSTS = env_list("SPEAKOUT_ALLOWED_HOSTS", [] if PRODUCTION else sorted(set(_LOCAL_HOSTS)))
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("SPEAKOUT_ALLOWED_HOSTS must be set when SPEAKOUT_ENV=production")
# Origins (besides the site's own) whose pages may post forms here (speakout/net/crossorigin.py).
CSRF_TRUSTED_ORIGINS = env_list("SPEAKOUT_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # Speakout's own apps come first so their templates override the libraries' ones.
    "speakout.theme",
    "speakout.identity",
    "speakout.discussion",
    "speakout.embed",
    "speakout.outbox",
    "speakout.subscriptions",
    "speakout.contact",
    "speakout.privacy",
    "speakout.safety",
    "speakout.publishing",
    "speakout.pagecache",
    "speakout.interchange",
    "speakout.federation",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.routable_page",
    "wagtail.contrib.settings",
    "wagtail.contrib.sitemaps",
    # Reports in several languages: Wagtail's locales and its "Translate" action (docs/languages.md).
    "wagtail.contrib.simple_translation",
    "wagtail.locales",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_tasks",
    "django_tasks_db",
    "ninja",  # serves its own copy of the API docs page's assets: no CDN
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.sitemaps",
    "django.contrib.staticfiles",
    "django.contrib.humanize",  # allauth's list of security keys loads it
    # Accounts, social login and MFA (configured in the identity section below).
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.socialaccount.providers.github",
    "allauth.socialaccount.providers.google",
    "allauth.socialaccount.providers.facebook",
    "allauth.mfa",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # A NUL in the address or query answers 400 before anything reads it (theme/middleware.py).
    "speakout.theme.middleware.RefuseNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "speakout.theme.middleware.ContentSecurityPolicyMiddleware",
    # The shared-cache entries the request will read (a reply post's rules, the default language)
    # in one round trip, for the whole request (speakout/net/sharedreads.py).
    "speakout.net.sharedreads.SharedReadsMiddleware",
    # Django's LocaleMiddleware, with the admin's default language (speakout/theme/languages.py).
    "speakout.theme.middleware.SiteLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    # CORS and the Origin check for /api/, /embed/ and Isso's paths (see speakout/embed/middleware.py);
    # outside the page cache, so cached answers get their CORS headers too.
    "speakout.embed.middleware.EmbedMiddleware",
    # Cross-site forms refused from the browser's Sec-Fetch-Site and Origin headers; Django's token
    # check only for clients that send neither (speakout/net/crossorigin.py).
    "speakout.net.crossorigin.CrossOriginProtectionMiddleware",
    # A report's Article for a request asking for ActivityStreams, and `Vary: Accept` on pages;
    # above the page cache, which holds only the HTML (speakout/federation/middleware.py).
    "speakout.federation.middleware.ActivityNegotiationMiddleware",
    # Anonymous pages from the cache, before sessions, routing and rendering (docs/caching.md).
    "speakout.pagecache.middleware.PageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "speakout.identity.middleware.StaffMFAMiddleware",
    "speakout.identity.middleware.ProviderRedirectMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Wagtail's redirects, none to a page a stranger may not read (speakout/interchange/middleware.py).
    "speakout.interchange.middleware.PublicRedirectMiddleware",
    "speakout.interchange.middleware.OldQueryLinkMiddleware",
]

ROOT_URLCONF = "speakout.urls"
WSGI_APPLICATION = "speakout.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
                "speakout.theme.context_processors.site",
                "speakout.pagecache.holes.csrf",  # no token in pages rendered for the cache
            ],
        },
    },
]

# Django's form renderer, with the plain widgets written out in Python (speakout/theme/widgets.py).
FORM_RENDERER = "speakout.theme.widgets.WidgetRenderer"

# Database: SQLite in the data folder by default, anything dj-database-url reads otherwise.
DATABASE_URL = env("DATABASE_URL")
if DATABASE_URL:
    if urlsplit(DATABASE_URL).scheme.startswith(("postgres", "pgsql", "postgis")):
        require_package("psycopg", "DATABASE_URL (PostgreSQL)", "postgres")
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=env_int("SPEAKOUT_DB_CONN_MAX_AGE", 60), conn_health_checks=True
        )
    }
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool(
        "SPEAKOUT_DB_PREPARED_STATEMENTS", True
    ):
        # Parameters sent apart from the statement, and a statement run twice on a connection
        # prepared: PostgreSQL parses and plans it once, not on every request (about a third of
        # its CPU per reply post, see docs/benchmarks.md). Off for a pooler in transaction mode
        # that cannot keep prepared statements (PgBouncer before 1.21). Options in the URL win.
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options.setdefault("server_side_binding", True)
        options.setdefault("prepare_threshold", 1)
else:
    SQLITE_FILE = DATA_DIR / "speakout.sqlite3"
    # Made here, readable by the site's own user only (SQLite gives its -wal and -shm files the
    # same mode); SQLite itself would follow the umask, usually readable by everyone.
    with contextlib.suppress(FileExistsError):
        os.close(os.open(SQLITE_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": SQLITE_FILE,
            "OPTIONS": {
                # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at
                # the start of a transaction so concurrent writers queue instead of failing.
                # NORMAL syncs at checkpoints: a crashed process loses no commit (a power cut may
                # lose the last ones; see docs/reliability.md).
                "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA foreign_keys=ON;",
                "transaction_mode": "IMMEDIATE",
                # How long a writer waits for the lock before its request gets a 503 "try again".
                "timeout": env_int("SPEAKOUT_SQLITE_BUSY_TIMEOUT", 10),
            },
            # Reused like PostgreSQL's: opening a connection (its pragmas, Django's SQL
            # functions) and closing it (the last one out checkpoints the WAL) costs more CPU
            # than the rest of a reply post.
            "CONN_MAX_AGE": env_int("SPEAKOUT_DB_CONN_MAX_AGE", 60),
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    require_package("redis", "REDIS_URL", "redis")
    require_package("hiredis", "REDIS_URL", "redis")  # net/rediscache.py parses every reply with it
    CACHES = {
        "default": {
            # Django's backend, keeping one Redis client per pool (see the module for why).
            "BACKEND": "speakout.net.rediscache.SharedClientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("SPEAKOUT_CACHE_PREFIX", "speakout"),
        },
    }
else:
    # Rate limits live here too: with locmem's default of 300 entries, a flood from a few
    # hundred senders culled the counters and let replies through (tests/security/test_floods.py).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "OPTIONS": {"MAX_ENTRIES": 20000},
        },
    }
# Django's {% cache %} tag reads this alias: the default cache, read through the request's
# shared reads, so the fragments a page's view read ahead come in one round trip (net/sharedreads.py).
CACHES["template_fragments"] = {"BACKEND": "speakout.net.sharedreads.FragmentCache"}
# The page cache's version counters, read on every hit. Without Redis the cache is each process's
# own, and with SQLite every process runs on this host and reaches the data folder: they are
# files there, which every process shares (a hit then waits on no round trip to Redis). With
# Redis and a database several hosts share, they live in Redis.
SPEAKOUT_PAGE_CACHE_VERSIONS_DIR = (
    ""
    if REDIS_URL and DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3"
    else DATA_DIR / "cache" / "versions"
)

TASKS = {
    "default": {
        "BACKEND": env("SPEAKOUT_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Languages: the browser's Accept-Language picks one of these, the switcher in the footer
# overrides it through Django's set_language view. Arabic is written right to left.
LANGUAGE_CODE = env("SPEAKOUT_LANGUAGE", "en")
LANGUAGES = [
    ("en", _("English")),
    ("es", _("Spanish")),
    ("fr", _("French")),
    ("pt-br", _("Brazilian Portuguese")),
    ("ar", _("Arabic")),
]
FORMAT_MODULE_PATH = ["speakout.formats"]  # one 24-hour clock in English (speakout/formats/en)
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = env("SPEAKOUT_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("SPEAKOUT_MEDIA_DIR", str(DATA_DIR / "media")))
# Files only the site's own processes read (uploaded import files): never served, so never
# under MEDIA_ROOT or STATIC_ROOT (checked at start-up).
SPEAKOUT_PRIVATE_DIR = Path(env("SPEAKOUT_PRIVATE_DIR", str(DATA_DIR / "private"))).resolve()
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Outside production the files are served straight from the apps' folders, so a fresh clone
# needs no collectstatic step; production serves the collected, hashed, compressed copies.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_MAX_AGE = 31536000 if PRODUCTION else 60

# Mail: files in the data folder until an SMTP host is configured.
EMAIL_HOST = env("SPEAKOUT_EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("SPEAKOUT_EMAIL_PORT", 587)
    EMAIL_HOST_USER = env("SPEAKOUT_EMAIL_USER")
    EMAIL_HOST_PASSWORD = env("SPEAKOUT_EMAIL_PASSWORD")
    EMAIL_USE_TLS = env_bool("SPEAKOUT_EMAIL_STARTTLS", True)
    EMAIL_USE_SSL = env_bool("SPEAKOUT_EMAIL_SSL", False)
    EMAIL_TIMEOUT = env_int("SPEAKOUT_EMAIL_TIMEOUT", 20)
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = DATA_DIR / "mail"
    # The mails hold working links (manage my replies, confirmations): a folder of the site's own.
    EMAIL_FILE_PATH.mkdir(mode=0o700, exist_ok=True)
    with contextlib.suppress(PermissionError):  # one another user owns is left as it is
        EMAIL_FILE_PATH.chmod(0o700)
DEFAULT_FROM_EMAIL = env("SPEAKOUT_EMAIL_FROM", "Speakout <speakout@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The outbox sends at most this many mails a minute, across all workers (0: no limit).
SPEAKOUT_EMAIL_RATE_PER_MINUTE = env_int("SPEAKOUT_EMAIL_RATE_PER_MINUTE", 60)
# Bounces and complaints (docs/email.md): each mail's envelope sender is this address with a
# signed tag, and bounces are read from a mailbox over IMAP by the worker or handed to
# `speakout bounces` by the mail server. Hard bounces and complaints stop mail to an address.
SPEAKOUT_BOUNCE_ADDRESS = env("SPEAKOUT_BOUNCE_ADDRESS", "")
SPEAKOUT_BOUNCE_IMAP_URL = env("SPEAKOUT_BOUNCE_IMAP_URL", "")
SPEAKOUT_BOUNCE_IMAP_SECONDS = env_int("SPEAKOUT_BOUNCE_IMAP_SECONDS", 300)
if SPEAKOUT_BOUNCE_ADDRESS and "@" not in SPEAKOUT_BOUNCE_ADDRESS:
    raise ImproperlyConfigured("SPEAKOUT_BOUNCE_ADDRESS must be an email address, e.g. bounces@example.org")
if SPEAKOUT_BOUNCE_IMAP_URL and not SPEAKOUT_BOUNCE_ADDRESS:
    raise ImproperlyConfigured(
        "SPEAKOUT_BOUNCE_IMAP_URL is set but SPEAKOUT_BOUNCE_ADDRESS is not: without it no bounce names its mail"
    )
# DKIM signing (docs/email.md): on when a private key is found, in SPEAKOUT_DKIM_PRIVATE_KEY (PEM)
# or in the file SPEAKOUT_DKIM_KEY_FILE (default <data folder>/dkim/<selector>.pem).
SPEAKOUT_DKIM_SELECTOR = env("SPEAKOUT_DKIM_SELECTOR", "speakout")
SPEAKOUT_DKIM_DOMAIN = env("SPEAKOUT_DKIM_DOMAIN", "")
SPEAKOUT_DKIM_PRIVATE_KEY = env("SPEAKOUT_DKIM_PRIVATE_KEY", "")
SPEAKOUT_DKIM_KEY_FILE = env("SPEAKOUT_DKIM_KEY_FILE", "")
# A mail "sending" for longer than this belongs to a worker that died mid-send: it is retried.
# Keep it well above SPEAKOUT_EMAIL_TIMEOUT.
SPEAKOUT_OUTBOX_CLAIM_TIMEOUT_SECONDS = env_int("SPEAKOUT_OUTBOX_CLAIM_TIMEOUT_SECONDS", 600)

# Wagtail
WAGTAIL_SITE_NAME = SITE_NAME
# Pages in several languages: a tree per locale, the default language's at unprefixed addresses
# and the others under /fr/..., /ar/... (speakout/publishing/languages.py, docs/languages.md).
WAGTAIL_I18N_ENABLED = True
WAGTAIL_CONTENT_LANGUAGES = LANGUAGES
WAGTAILADMIN_BASE_URL = BASE_URL
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILIMAGES_EXTENSIONS = ["avif", "gif", "jpg", "jpeg", "png", "webp"]
WAGTAILDOCS_EXTENSIONS = ["csv", "docx", "odp", "ods", "odt", "pdf", "pptx", "rtf", "txt", "xlsx"]
WAGTAIL_ENABLE_UPDATE_CHECK = False  # no call home
WAGTAIL_GRAVATAR_PROVIDER_URL = None  # no staff email hashes sent to Gravatar; local placeholder avatars
WAGTAIL_PASSWORD_REQUIRED_TEMPLATE = "publishing/password_required.html"
# Follow confirmations one address may get per day, whoever asks from wherever (subscriptions).
SPEAKOUT_SUBSCRIPTIONS_CONFIRMATIONS_PER_ADDRESS = (env_int("SPEAKOUT_CONFIRMATIONS_PER_ADDRESS_PER_DAY", 5), 86400)
# At most one mail about answers per thread and address in this many minutes; more make a digest.
SPEAKOUT_SUBSCRIPTIONS_ANSWER_MINUTES = env_int("SPEAKOUT_ANSWER_MAIL_MINUTES", 15)
# Password-protected pages: attempts per client, attempts per page (all clients together), in
# this many seconds (publishing/views.py authenticate_with_password).
SPEAKOUT_PAGE_PASSWORD_ATTEMPTS = (
    env_int("SPEAKOUT_PAGE_PASSWORD_ATTEMPTS_PER_CLIENT", 10),
    env_int("SPEAKOUT_PAGE_PASSWORD_ATTEMPTS_PER_PAGE", 100),
    env_int("SPEAKOUT_PAGE_PASSWORD_WINDOW", 900),
)
WAGTAILEMBEDS_FINDERS = []  # media links render as links; no oEmbed request leaves the server
TAGGIT_CASE_INSENSITIVE = True

# Security. Production turns the protections on; HSTS is opt-in because it cannot be undone
# quickly once browsers have cached it.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"  # Wagtail lifts this for its own preview frames
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
# With Secure cookies, the "__Host-" prefix: a browser then keeps such a cookie only from this
# host itself (Secure, Path=/, no Domain), so a sibling subdomain (x.example.org setting one for
# example.org) cannot sign a reader in as someone else. The guest cookie follows the session
# cookie's (speakout.discussion.app_settings). Changing the names signs everyone out once.
if SESSION_COOKIE_SECURE:
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
# The messages cookie too ("__Host-messages"): speakout.net.messages names it from the setting above.
MESSAGE_STORAGE = "speakout.net.messages.FallbackStorage"
SECURE_SSL_REDIRECT = env_bool("SPEAKOUT_SSL_REDIRECT", PRODUCTION)
if env_bool("SPEAKOUT_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("SPEAKOUT_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SPEAKOUT_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SPEAKOUT_HSTS_PRELOAD", False)
# Django's CSRF middleware is in MIDDLEWARE as speakout.net.crossorigin's subclass, which its
# check does not recognise.
SILENCED_SYSTEM_CHECKS = ["security.W003"]
if not SECURE_HSTS_SECONDS:
    # HSTS is the operator's decision (SPEAKOUT_HSTS_SECONDS); leaving it off is deliberate.
    SILENCED_SYSTEM_CHECKS.append("security.W004")

# Content-Security-Policy (django-csp). The public site runs no inline script and loads nothing
# from another origin. The Wagtail admin gets its own, looser policy in the theme middleware.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "media-src": [SELF],
        "object-src": [NONE],
        "frame-src": [NONE],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
    }
}
SPEAKOUT_ADMIN_CSP_DIRECTIVES = {
    "default-src": [SELF],
    "script-src": [SELF, "'unsafe-inline'", "'unsafe-eval'"],
    "style-src": [SELF, "'unsafe-inline'"],
    "img-src": [SELF, "data:", "blob:"],
    "font-src": [SELF, "data:"],
    "connect-src": [SELF],
    "frame-src": [SELF],
    "object-src": [NONE],
    "frame-ancestors": [SELF],
    "base-uri": [SELF],
    "form-action": [SELF],
}

# Logging goes to stderr. It records no IP address, no query string and no form data:
# request records are reduced to the method, path and status by the theme's filter.
# Error reports (a debug page) hide the process's environment, which granian copies into every
# request's META (speakout/theme/errors.py).
DEFAULT_EXCEPTION_REPORTER_FILTER = "speakout.theme.errors.ReporterFilter"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"no_personal_data": {"()": "speakout.theme.logging.NoPersonalDataFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["no_personal_data"],
        }
    },
    "root": {"handlers": ["console"], "level": env("SPEAKOUT_LOG_LEVEL", "INFO")},
    "loggers": {
        # In place of Django's defaults for its loggers: a console handler of their own (printing
        # when DEBUG is on) and AdminEmailHandler, neither with the filter above.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.server": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        # Wagtail logs every page action at INFO, with titles; the admin's history keeps those.
        "wagtail": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "django_tasks": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "django_tasks_db": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        # granian's worker gives its loggers handlers of its own (stdout, no filter) before it
        # loads the application, whose LOGGING replaces them here. Its access log would print
        # each reader's IP address: it prints nothing, even if turned on.
        "_granian": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "granian.access": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}

# Speakout's own settings
SPEAKOUT_REPORTS_PER_PAGE = env_int("SPEAKOUT_REPORTS_PER_PAGE", 10)
SPEAKOUT_SCHEDULER_INTERVAL = env_int("SPEAKOUT_SCHEDULER_INTERVAL", 60)
# Niceness the worker adds to its own CPU priority (speakout/worker.py ``lower_priority``).
SPEAKOUT_WORKER_NICE = env_int("SPEAKOUT_WORKER_NICE", 0)
# Each app's jobs.py lists its scheduled jobs (``schedule()``); the worker's clock runs them and
# these, the project's own: (name, every N seconds, dotted path). See speakout/worker.py.
SPEAKOUT_SCHEDULED_JOBS: list[tuple[str, int, str]] = []
# Seconds between the outbox's sweeps (retries, held-back mail) and the reply notifications' sweep.
SPEAKOUT_OUTBOX_SWEEP_SECONDS = env_int("SPEAKOUT_OUTBOX_SWEEP_SECONDS", 30)
# Seconds between two rebuilds of the spam filter from moderators' decisions.
SPEAKOUT_SAFETY_RETRAIN_SECONDS = env_int("SPEAKOUT_SAFETY_RETRAIN_SECONDS", 86400)

# Discussion: deployment-level limits (editors change the everyday rules in the admin).
SPEAKOUT_DISCUSSION_SECONDS_BETWEEN_REPLIES = env_int("SPEAKOUT_DISCUSSION_SECONDS_BETWEEN_REPLIES", 15)
SPEAKOUT_DISCUSSION_BURST_LIMIT = (
    env_int("SPEAKOUT_DISCUSSION_BURST_COUNT", 5),
    env_int("SPEAKOUT_DISCUSSION_BURST_SECONDS", 600),
)
# Refused replies (guard, protected or staff names, duplicates...) a client may send before it
# is told to wait: refusals answer questions, so guessing by them is limited too.
SPEAKOUT_DISCUSSION_REFUSAL_LIMIT = (
    env_int("SPEAKOUT_DISCUSSION_REFUSAL_COUNT", 10),
    env_int("SPEAKOUT_DISCUSSION_REFUSAL_SECONDS", 600),
)
SPEAKOUT_DISCUSSION_MIN_SECONDS_TO_SUBMIT = env_int("SPEAKOUT_DISCUSSION_MIN_SECONDS_TO_SUBMIT", 3)
SPEAKOUT_DISCUSSION_REPORTS_PER_HOUR = env_int("SPEAKOUT_DISCUSSION_REPORTS_PER_HOUR", 20)
# Most mails a moderator gets about held or reported replies in an hour (0: no cap).
SPEAKOUT_MODERATOR_ALERTS_PER_HOUR = env_int("SPEAKOUT_MODERATOR_ALERTS_PER_HOUR", 30)
# The proxies in front of Speakout (addresses or networks). X-Forwarded-For is read only from
# them, walked from the right past them (speakout/net/addresses.py); empty: it is ignored.
SPEAKOUT_TRUSTED_PROXIES = env_networks(
    "SPEAKOUT_TRUSTED_PROXIES", "an IP address or network (e.g. 10.0.0.2, 10.0.0.0/24)"
)
if "SPEAKOUT_TRUSTED_PROXY_COUNT" in os.environ:
    raise ImproperlyConfigured(
        "SPEAKOUT_TRUSTED_PROXY_COUNT is gone: list the proxies' addresses in SPEAKOUT_TRUSTED_PROXIES instead"
    )
# Networks the server-side fetcher (speakout.net.fetch) may reach although they are not public:
# for tests that serve an old site from loopback. Leave empty in production (SSRF protection).
SPEAKOUT_FETCH_ALLOWED_NETWORKS = env_networks("SPEAKOUT_FETCH_ALLOWED_NETWORKS", "an IP network")
# The Fediverse's operator limits (what each means: speakout/federation/app_settings.py).
SPEAKOUT_FEDERATION_MAX_BODY_BYTES = env_int("SPEAKOUT_FEDERATION_MAX_BODY_BYTES", 256 * 1024)
SPEAKOUT_FEDERATION_MAX_JSON_DEPTH = env_int("SPEAKOUT_FEDERATION_MAX_JSON_DEPTH", 32)
SPEAKOUT_FEDERATION_SIGNATURE_WINDOW_SECONDS = env_int("SPEAKOUT_FEDERATION_SIGNATURE_WINDOW_SECONDS", 300)
SPEAKOUT_FEDERATION_KEY_CACHE_SECONDS = env_int("SPEAKOUT_FEDERATION_KEY_CACHE_SECONDS", 24 * 3600)
SPEAKOUT_FEDERATION_KEY_REFETCH_SECONDS = env_int("SPEAKOUT_FEDERATION_KEY_REFETCH_SECONDS", 300)
SPEAKOUT_FEDERATION_KEY_FETCHES_PER_HOST_PER_HOUR = env_int("SPEAKOUT_FEDERATION_KEY_FETCHES_PER_HOST_PER_HOUR", 120)
SPEAKOUT_FEDERATION_REFUSED_LOGGED_PER_HOST_PER_HOUR = env_int(
    "SPEAKOUT_FEDERATION_REFUSED_LOGGED_PER_HOST_PER_HOUR", 60
)
SPEAKOUT_FEDERATION_DELIVERY_FIRST_RETRY_SECONDS = env_int("SPEAKOUT_FEDERATION_DELIVERY_FIRST_RETRY_SECONDS", 60)
SPEAKOUT_FEDERATION_DELIVERY_MAX_RETRY_SECONDS = env_int("SPEAKOUT_FEDERATION_DELIVERY_MAX_RETRY_SECONDS", 6 * 3600)
SPEAKOUT_FEDERATION_DELIVERY_ATTEMPTS = env_int("SPEAKOUT_FEDERATION_DELIVERY_ATTEMPTS", 12)
SPEAKOUT_FEDERATION_CLAIM_TIMEOUT_SECONDS = env_int("SPEAKOUT_FEDERATION_CLAIM_TIMEOUT_SECONDS", 300)
SPEAKOUT_FEDERATION_REPLIES_PER_DOMAIN_PER_HOUR = env_int("SPEAKOUT_FEDERATION_REPLIES_PER_DOMAIN_PER_HOUR", 60)
SPEAKOUT_FEDERATION_LOG_RETENTION_DAYS = env_int("SPEAKOUT_FEDERATION_LOG_RETENTION_DAYS", 30)
SPEAKOUT_FEDERATION_TOMBSTONE_RETENTION_DAYS = env_int("SPEAKOUT_FEDERATION_TOMBSTONE_RETENTION_DAYS", 30)
# Safety checks appended to the discussion's policy pipeline (see docs/safety.md).
SPEAKOUT_DISCUSSION_EXTRA_POLICY_CHECKS = [
    "speakout.safety.checks.PersonalDataCheck",
    "speakout.safety.checks.SpamScoreCheck",
    "speakout.safety.pileon.ApprovedRepliersOnlyCheck",
    "speakout.safety.pileon.PileOnCheck",
]
# Replies held as evidence are out of every moderation queue (the Evidence screen shows them).
SPEAKOUT_DISCUSSION_MODERATION_EXCLUDE = ["speakout.safety.evidence.is_held"]
SPEAKOUT_SAFETY_PHONE_REGIONS = env_list("SPEAKOUT_SAFETY_PHONE_REGIONS", ["ES", "GB", "US"])

# Page cache for anonymous readers (docs/caching.md): on unless switched off.
SPEAKOUT_PAGE_CACHE_ENABLED = env_bool("SPEAKOUT_PAGE_CACHE", True)
# The page cache imports no other app: the apps' own paths, headers and cookies are named here.
# /documents/ is Wagtail's; /discussion/ holds the form's posts and a reader's own pages; the
# discussion's guest header (speakout.discussion.api) marks a guest; its cookie, like every cookie
# but the neutral ones, sends the request past the cache.
SPEAKOUT_PAGE_CACHE_EXCLUDED_PREFIXES = ("/admin/", "/static/", "/media/", "/i18n/", "/documents/", "/discussion/")
SPEAKOUT_PAGE_CACHE_PERSONAL_HEADERS = ("HTTP_AUTHORIZATION", "HTTP_X_SPEAKOUT_GUEST")

# Contact form: minimum seconds between two messages from one client or one email address.
SPEAKOUT_CONTACT_SECONDS_BETWEEN_MESSAGES = env_int("SPEAKOUT_CONTACT_SECONDS_BETWEEN_MESSAGES", 30)

# Privacy and retention (docs/privacy.md; the /privacy/ page shows these very numbers).
# Client hashes (keyed hashes of truncated IP addresses) are cleared after this many days; the
# key they are made with rotates every SPEAKOUT_CLIENT_KEY_DAYS.
SPEAKOUT_DISCUSSION_CLIENT_HASH_DAYS = env_int("SPEAKOUT_CLIENT_HASH_DAYS", 30)
SPEAKOUT_DISCUSSION_CLIENT_KEY_DAYS = env_int("SPEAKOUT_CLIENT_KEY_DAYS", 7)
SPEAKOUT_PRIVACY_HELD_REPLY_DAYS = env_int("SPEAKOUT_HELD_REPLY_DAYS", 90)
SPEAKOUT_PRIVACY_SENT_MAIL_DAYS = env_int("SPEAKOUT_SENT_MAIL_DAYS", 30)
SPEAKOUT_PRIVACY_TASK_RESULT_DAYS = env_int("SPEAKOUT_TASK_RESULT_DAYS", 7)
SPEAKOUT_PRIVACY_FORGET_AFTER_DAYS = env_int("SPEAKOUT_FORGET_AFTER_DAYS", 7)
SPEAKOUT_PRIVACY_UNSUBSCRIBED_DAYS = env_int("SPEAKOUT_UNSUBSCRIBED_DAYS", 90)
SPEAKOUT_PRIVACY_LINK_MAX_AGE = env_int("SPEAKOUT_MANAGE_LINK_HOURS", 24) * 3600
# Replies held as evidence are exempt from the purges until released; then their sealed copy goes.
SPEAKOUT_PRIVACY_RELEASED_EVIDENCE_DAYS = env_int("SPEAKOUT_RELEASED_EVIDENCE_DAYS", 30)


# Embedding the discussion on other sites (speakout/embed): origins allowed besides the admin's
# list, where Isso's API is served ("" turns it off), and how long a widget's sign-in lasts.
SPEAKOUT_EMBED_ORIGINS = env_list("SPEAKOUT_EMBED_ORIGINS", [])
SPEAKOUT_EMBED_ISSO_PREFIX = env("SPEAKOUT_EMBED_ISSO_PREFIX", "isso")
# Paths that answer JSON, errors included (the theme's NUL guard answers them in kind): the
# discussion's API, the embed API (the hosted HTML page beside it is not) and Isso's.
SPEAKOUT_THEME_JSON_PREFIXES = ("/api/", "/embed/api/") + (
    (f"/{SPEAKOUT_EMBED_ISSO_PREFIX.strip('/')}/",) if SPEAKOUT_EMBED_ISSO_PREFIX.strip("/") else ()
)
SPEAKOUT_EMBED_SIGNIN_MAX_AGE = env_int("SPEAKOUT_EMBED_SIGNIN_MAX_AGE", 3600)
# Identity: accounts, social login and MFA (django-allauth). See docs/accounts.md.
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
# Wagtail's own login and password reset screens are replaced by allauth's (one login, with its
# rate limits and MFA); /admin/login/ redirects there too (speakout/urls.py).
WAGTAILADMIN_LOGIN_URL = "/accounts/login/"
WAGTAIL_PASSWORD_RESET_ENABLED = False
ACCOUNT_ADAPTER = "speakout.identity.adapter.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "speakout.identity.adapter.SocialAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False  # a reset request for an unknown address sends nothing
ACCOUNT_LOGOUT_REDIRECT_URL = "/"
ACCOUNT_EMAIL_SUBJECT_PREFIX = ""
ACCOUNT_USERNAME_VALIDATORS = "speakout.identity.validators.username_validators"  # "Night Owl" is a name
ACCOUNT_FORMS = {  # allauth's forms with labels in the site's voice
    "login": "speakout.identity.account_forms.LoginForm",
    "signup": "speakout.identity.account_forms.SignupForm",
    "change_password": "speakout.identity.account_forms.ChangePasswordForm",
    "set_password": "speakout.identity.account_forms.SetPasswordForm",
    "reset_password_from_key": "speakout.identity.account_forms.ResetPasswordKeyForm",
}
ACCOUNT_DEFAULT_HTTP_PROTOCOL = urlsplit(BASE_URL).scheme or "https"
# Site-account sign-up (signing in with a configured provider stays open either way).
SPEAKOUT_ACCOUNT_SIGNUP_OPEN = env_bool("SPEAKOUT_ACCOUNT_SIGNUP", True)
# "Reply under a pseudonym" (docs/accounts.md): a passwordless account proved by allauth's
# verification link, which signs the reader in when opened in the same browser; they come back
# with a code mailed to them. Both mails go through the outbox.
SPEAKOUT_PSEUDONYMS = env_bool("SPEAKOUT_PSEUDONYMS", True)
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGIN_BY_CODE_ENABLED = SPEAKOUT_PSEUDONYMS
# Allauth keeps its counters in the default cache: Redis in production, so every web process
# counts the same attempts. Values are allauth's own format (see docs/accounts.md).
ACCOUNT_RATE_LIMITS = {
    "login": env("SPEAKOUT_RATE_LIMIT_LOGIN", "30/m/ip"),
    "login_failed": env("SPEAKOUT_RATE_LIMIT_LOGIN_FAILED", "10/m/ip,5/5m/key"),
    "signup": env("SPEAKOUT_RATE_LIMIT_SIGNUP", "20/m/ip"),
    "reset_password": env("SPEAKOUT_RATE_LIMIT_PASSWORD_RESET", "20/m/ip,5/m/key"),
}
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # a provider's email never takes over a site account
SOCIALACCOUNT_STORE_TOKENS = False  # we only need to know who someone is
# A provider sign-up asks for the name shown on replies instead of taking the provider's.
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_FORMS = {"signup": "speakout.identity.account_forms.ProviderSignupForm"}
SOCIALACCOUNT_PROVIDERS = {
    # Every provider's keys live in the admin (Settings > Login providers), never here.
    "openid_connect": {"OAUTH_PKCE_ENABLED": True},
}
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_TOTP_ISSUER = SITE_NAME
# Browsers allow WebAuthn on http://localhost only; production is https.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = not PRODUCTION
# Anyone who can reach the Wagtail admin must set up a second factor before it serves them.
SPEAKOUT_STAFF_REQUIRE_MFA = env_bool("SPEAKOUT_STAFF_REQUIRE_MFA", PRODUCTION)
# Links on the account page, (label, URL name) pairs: other apps add theirs here.
SPEAKOUT_ACCOUNT_LINKS = [
    (_("My replies: edit, delete, anonymise or export them"), "privacy:account"),
    (_("My subscriptions: what mail I get"), "subscriptions:mine"),
    (_("Delete my account"), "privacy:delete_account"),
]
SPEAKOUT_DISCUSSION_LOGOUT_URL = "/accounts/logout/"
SPEAKOUT_DISCUSSION_IDENTITY_TEMPLATE = "identity/reply_form_identity.html"
# Interchange: scheduled backups by the worker (0 hours: off), keeping the newest N archives.
SPEAKOUT_BACKUP_EVERY_HOURS = env_int("SPEAKOUT_BACKUP_EVERY_HOURS", 0)
SPEAKOUT_BACKUP_KEEP = env_int("SPEAKOUT_BACKUP_KEEP", 7)
# Interchange: the most an import may bring (speakout/interchange/app_settings.py says what each
# limits), and after how many days the worker deletes what an import left behind.
SPEAKOUT_INTERCHANGE_MAX_UPLOAD_BYTES = env_int("SPEAKOUT_IMPORT_MAX_FILE_MB", 1024) * 1024 * 1024
SPEAKOUT_INTERCHANGE_MEDIA_MAX_BYTES = env_int("SPEAKOUT_IMPORT_MAX_MEDIA_MB", 20 * 1024) * 1024 * 1024
SPEAKOUT_INTERCHANGE_MEDIA_MAX_FILES = env_int("SPEAKOUT_IMPORT_MAX_MEDIA_FILES", 200_000)
SPEAKOUT_INTERCHANGE_MEDIA_MAX_FILE_BYTES = env_int("SPEAKOUT_IMPORT_MAX_MEDIA_FILE_MB", 1024) * 1024 * 1024
SPEAKOUT_INTERCHANGE_LEFTOVER_DAYS = env_int("SPEAKOUT_IMPORT_LEFTOVER_DAYS", 7)
