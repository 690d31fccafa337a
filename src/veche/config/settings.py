"""Django settings for veche, read from the environment.

Environment:
  VECHE_DATA_DIR        directory for veche.sqlite3 and the generated secret_key (default ./var)
  DATABASE_URL          postgresql://user[:password]@host[:port]/name switches to PostgreSQL
  VECHE_DEBUG           1 to enable DEBUG (never in production)
  VECHE_ALLOWED_HOSTS   comma-separated; default 127.0.0.1,localhost,[::1],.onion
  VECHE_SECURE_COOKIES  1 to mark cookies Secure (only behind HTTPS; onion services use HTTP)
  VECHE_HASHING_SLOTS   Argon2id runs at once, all server processes together (default cores/2)
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("VECHE_DATA_DIR", "var")).resolve()


def _env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _read_or_create_secret_key(data_dir: Path) -> str:
    """Return the installation's secret key, creating it (mode 0600) on first use.

    Written to a temporary file and hard-linked into place so that two processes
    starting at once never read a half-written key: the link either wins or fails.
    """
    path = data_dir / "secret_key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        tmp = data_dir / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(50))
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    key = path.read_text().strip()
    if len(key) < 32:
        raise ImproperlyConfigured(f"{path} is too short to be a secret key")
    return key


def _database_from_url(url: str) -> dict[str, object]:
    """Return a Django DATABASES entry for a postgresql:// URL."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise ImproperlyConfigured("DATABASE_URL must start with postgresql://")
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise ImproperlyConfigured("DATABASE_URL has no database name")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        # A new connection per request halves throughput (SERVING-NOTES.md).
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }


SECRET_KEY = _read_or_create_secret_key(DATA_DIR)
DEBUG = _env_flag("VECHE_DEBUG")
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("VECHE_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],.onion").split(",")
    if h.strip()
]

# veche's apps, lowest first: each may import the ones before it, never one after
# (an import-linter contract in pyproject.toml keeps it so).
VECHE_APPS = [
    "veche.apps.core",
    "veche.apps.accounts",
    "veche.apps.federation",
    "veche.apps.proposals",
    "veche.apps.fund",
    "veche.apps.api",
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    *VECHE_APPS,
]

MIDDLEWARE = [
    "veche.apps.core.middleware.SecurityHeadersMiddleware",
    "veche.apps.core.requestcache.RequestCacheMiddleware",
    # Outermost but for the headers: a lock not granted in time becomes a clear 503.
    "veche.apps.core.busy.BusyDatabaseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: the request's keyring needs to know who is logged in.
    "veche.apps.accounts.middleware.KeyringMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "veche.apps.core.middleware.AccessMiddleware",
    "veche.apps.federation.middleware.DissolvedGroupMiddleware",
    # With the request's keys: some settlements need a member of the body.
    "veche.apps.proposals.middleware.SettleDueMiddleware",
]

ROOT_URLCONF = "veche.config.urls"
WSGI_APPLICATION = "veche.config.wsgi.application"

# Every page is a Jinja2 template in an app's jinja2/ directory (decision 0081). Django's
# own engine stays second, for the templates of Django itself.
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "environment": "veche.apps.core.templating.environment",
            "context_processors": [
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "veche.apps.federation.context_processors.veche",
            ],
        },
    },
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csrf",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Form widgets are rendered with the Jinja2 versions of Django's own widget templates:
# the same markup but for blank lines, in half the time (decision 0135).
FORM_RENDERER = "django.forms.renderers.Jinja2"

# How long a write waits for another writer's lock before the member is told "busy,
# not saved" (a 503 that keeps what they typed): short, so nobody waits on a hang.
VECHE_DB_LOCK_WAIT_SECONDS = float(os.environ.get("VECHE_DB_LOCK_WAIT_SECONDS", "5"))

if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": _database_from_url(os.environ["DATABASE_URL"])}
    DATABASES["default"]["OPTIONS"] = {
        "options": f"-c lock_timeout={int(VECHE_DB_LOCK_WAIT_SECONDS * 1000)}",
        # Prepared statements (decision 0140): psycopg prepares a statement on its fifth
        # run on a connection, and the server plans it no more. Pages run the same
        # compiled statements on every view; planning was half of the database server's
        # CPU per page, on the machine the pages run on. Needs server-side binding.
        # Not for PgBouncer in transaction mode (veche connects directly).
        "server_side_binding": True,
        "prepare_threshold": 5,
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "veche.sqlite3"),
            # WAL + IMMEDIATE + timeout: the only SQLite setup that did not fail
            # under concurrent writers (SERVING-NOTES.md). Never ATOMIC_REQUESTS.
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": VECHE_DB_LOCK_WAIT_SECONDS,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                    # Overwrite deleted and replaced content with zeros, so an old
                    # version of a row (a ballot box before a ballot was added) does
                    # not linger in free pages of a seized file.
                    " PRAGMA secure_delete=ON;"
                ),
            },
            # A file, not :memory:, so tests with threads share one database.
            "TEST": {"NAME": str(DATA_DIR / "test_veche.sqlite3")},
            # One connection per worker thread, kept: opening one (and its PRAGMAs) cost
            # a page more than its own queries (bench/pages.py).
            "CONN_MAX_AGE": 600,
            "CONN_HEALTH_CHECKS": True,
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.Member"
AUTHENTICATION_BACKENDS = ["veche.apps.accounts.backends.MemberBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"

PASSWORD_HASHERS = [
    "veche.apps.core.hashers.VecheArgon2PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "veche.apps.core.validators.PassphraseLengthValidator"},
    {"NAME": "veche.apps.core.validators.PassphraseStrengthValidator"},
    {"NAME": "veche.apps.core.validators.NotContainingPseudonymValidator"},
]

# Logins (accounts.services, core.hashers; decision 0071). Per typed name, never per IP
# (Tor users share exits, and we keep no IPs): after a failure no attempt with that name
# is checked for 1 s, doubling per failure up to 30 s. Every Argon2id run of the server
# shares VECHE_HASHING_SLOTS slots (all processes together); a request waits at most
# VECHE_HASHING_WAIT_SECONDS for one, then gets "busy, try again in a moment".
VECHE_LOGIN_DELAY_BASE_SECONDS = 1
VECHE_LOGIN_DELAY_MAX_SECONDS = 30
# One slot per two cores: the other cores stay free for pages.
VECHE_HASHING_SLOTS = int(
    os.environ.get("VECHE_HASHING_SLOTS") or max(1, (os.cpu_count() or 2) // 2)
)
VECHE_HASHING_WAIT_SECONDS = 10.0
VECHE_HASHING_WAITERS_PER_PROCESS = 4
VECHE_HASHING_NICE = int(os.environ.get("VECHE_HASHING_NICE", "10"))
VECHE_HASHING_LOCK_DIR = DATA_DIR / "locks"
VECHE_INVITATION_DAYS = 7

# Django's database sessions, loaded by a statement compiled once (accounts/sessions.py).
SESSION_ENGINE = "veche.apps.accounts.sessions"
SESSION_COOKIE_NAME = "veche_session"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Strict"
SESSION_COOKIE_AGE = 14 * 24 * 3600
SESSION_COOKIE_SECURE = _env_flag("VECHE_SECURE_COOKIES")
CSRF_COOKIE_NAME = "veche_csrf"
CSRF_COOKIE_HTTPONLY = True  # no JavaScript ever needs to read it
CSRF_COOKIE_SAMESITE = "Strict"
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_FAILURE_VIEW = "veche.apps.core.views.csrf_failure"
LANGUAGE_COOKIE_NAME = "veche_language"
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Strict"
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
# In a signed cookie, not the session: showing a page never writes to the database.
MESSAGE_STORAGE = "django.contrib.messages.storage.cookie.CookieStorage"
MESSAGE_COOKIE_NAME = "veche_messages"

# The security headers are set by core.middleware.SecurityHeadersMiddleware.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ru", _("Russian")), ("uk", _("Ukrainian"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

STATIC_URL = "/static/"
STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.AppDirectoriesFinder"]

# Logs hold no path, origin, address, name or text (core/logging.py, decision 0075):
# only the server's own life and server errors (their traceback's frames and exception
# types). Refused CSRF posts, bad Host headers and 4xx answers are not logged at all.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "veche.apps.core.logging.RedactSecretsFilter"}},
    "formatters": {"plain": {"()": "veche.apps.core.logging.NoContentFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["redact"],
            "formatter": "plain",
        },
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "django.security": {"handlers": [], "level": "CRITICAL", "propagate": False},
        "django.server": {"handlers": [], "level": "CRITICAL", "propagate": False},
    },
}

# The headers these checks look for are set by core.middleware.SecurityHeadersMiddleware.
SILENCED_SYSTEM_CHECKS = ["security.W001", "security.W002"]

# Argon2id cost of members' key records: the real cost unless tests ask for the minimum.
VECHE_FAST_KDF = False
