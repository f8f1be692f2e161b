"""Settings, read from the environment (and a local `.env`) through django-environ.

See `.env.example` for every variable. With DEBUG off the app refuses to start without
SECRET_KEY and FERNET_KEYS.
"""

import warnings
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
# Owner and group only: it holds the SQLite file (itself 0600, see config/sqlite3) and the broker's queue.
VAR_DIR.mkdir(mode=0o750, exist_ok=True)

env = environ.Env()
# ENV_FILE lets tests and deployments point elsewhere (or at nothing).
ENV_FILE = Path(env.str("ENV_FILE", default=str(BASE_DIR / ".env")))
if ENV_FILE.is_file():
    environ.Env.read_env(ENV_FILE, overwrite=False)

DEBUG = env.bool("DEBUG", default=False)


def required_secret(name: str, hint: str) -> str:
    value = env.str(name, default="")
    if not value:
        raise ImproperlyConfigured(
            f"{name} is not set. {hint} For local use, run `make run` (or "
            "`python -m config.local_env`) once to write a git-ignored .env with fresh keys."
        )
    return value


SECRET_KEY = required_secret("SECRET_KEY", "Set SECRET_KEY to a long random string (Django signs sessions with it).")
# Kept apart from SECRET_KEY so either can be rotated alone. The first key encrypts;
# every key decrypts (see `manage.py rotate_encryption_keys`).
FERNET_KEYS = [
    key.strip()
    for key in required_secret(
        "FERNET_KEYS",
        "Set FERNET_KEYS to a comma-separated list of keys that encrypt stored API tokens "
        "(generate one with `python -c 'from cryptography.fernet import Fernet; "
        "print(Fernet.generate_key().decode())'`).",
    ).split(",")
    if key.strip()
]

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_celery_beat",
    "axes",
    "csp",
    "config",
    "portfolio",
    "integrations",
    "dealflow",
    "accounting",
]

MIDDLEWARE = [
    # First, so that it compresses what every other middleware produced. Django adds random bytes to
    # each gzip header against BREACH, and CSRF tokens are masked per response.
    "django.middleware.gzip.GZipMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The user's language (from the browser's Accept-Language): after sessions, before CommonMiddleware.
    # It translates the text and formats dates, numbers and money (dealflow.formatting).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a lockout raised during authentication into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def database(url: str) -> dict:
    """DATABASE_URL's settings; the local SQLite file when it is unset or empty (`DATABASE_URL=` in
    .env), a clear error for text that is no URL (it failed later with KeyError: 'ENGINE'). Neither
    the error nor django-environ's own warning (which prints the password) shows the URL."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        config = environ.Env.db_url_config(url or f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
    if not config.get("ENGINE"):
        raise ImproperlyConfigured("DATABASE_URL is not a database URL (sqlite:///PATH or postgres://…).")
    return config


DATABASES = {"default": database(env.str("DATABASE_URL", default=""))}


# Each worker keeps its connection between requests: for good unless CONN_MAX_AGE gives seconds (0
# closes it after each request), checked before a request reuses it (one `SELECT 1` on PostgreSQL,
# nothing on SQLite), so a restarted database server costs no failed request. A new connection costs
# a board more than the check (issue 14): on SQLite it reads the schema and starts with an empty page
# cache; on PostgreSQL the new backend's caches are cold and each statement is planned again until it
# is prepared on its sixth run (below). At 400,000 deals the first board after a reconnect took 66-73
# ms against 35-50, and with the former 60 s limit a board opened less than six times a minute never
# ran prepared. An idle SQLite connection holds no read transaction, so WAL checkpoints still run.
def conn_max_age(value: str) -> int | None:
    if value.strip().lower() in ("", "none"):
        return None
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"CONN_MAX_AGE must be a number of seconds or 'none', not {value!r}.") from None


DATABASES["default"].setdefault("CONN_MAX_AGE", conn_max_age(env.str("CONN_MAX_AGE", default="none")))
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's SQLite backend, creating a new database file readable by its owner only.
    DATABASES["default"]["ENGINE"] = "config.sqlite3"
    # WAL and a busy timeout let the web server, worker and beat share one SQLite file.
    # Each connection's page cache (SQLITE_CACHE_MB; SQLite's default is 2 MB): a board at 400,000
    # deals reads about 4 MB of pages, so with the default every board read ~1,000 pages again
    # through the operating system (issue 14). The cache only grows as pages are read.
    cache_kib = env.int("SQLITE_CACHE_MB", default=64) * 1024
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": f"PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-{cache_kib};",
        }
    )
else:
    # PostgreSQL (issue 14): parameters bound by the server, and a statement prepared once a
    # connection has run it 5 times. Planning the board's queries on every request cost as much
    # server time as running them (400k deals: 5-7 ms of a board, 2-4 ms of a load more or panel).
    # DATABASE_PREPARED_STATEMENTS=false turns both off (a pooler that cannot keep prepared statements).
    if env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
        DATABASES["default"].setdefault("OPTIONS", {}).update({"server_side_binding": True, "prepare_threshold": 5})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Login throttling (django-axes) on every login form, the board's and the admin's: after
# AXES_FAILURE_LIMIT wrong passwords for one username from one IP address, that pair is locked out
# for AXES_COOLOFF_MINUTES, even with the right password. Locking the pair (not the username alone)
# keeps an attacker from locking a partner out everywhere. Unlock early: `manage.py axes_reset`
# (everyone) or `manage.py axes_reset_username USERNAME`.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: it refuses locked-out credentials
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="en")
# What we ship a translation for (locale/): English, the default, and Swedish. LocaleMiddleware picks
# one from the browser's Accept-Language; a browser asking for anything else gets English, so no page
# mixes our English labels with another language's dates or admin.
LANGUAGES = [("en", "English"), ("sv", "Svenska")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Our date formats per language (compact, 24-hour, the same for every date a page shows).
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Stockholm")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))

LOGIN_URL = "login"
# The portfolio overview; it sends someone who may see one company on to that company's board.
LOGIN_REDIRECT_URL = "/dealflow/overview/"
LOGOUT_REDIRECT_URL = "login"

# Security: strict by default whenever DEBUG is off (`manage.py check --deploy` is clean).
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
# Only behind a TLS-terminating proxy that sets X-Forwarded-Proto itself: otherwise any client could
# send the header and skip the HTTPS redirect (and get secure-only cookies over plain HTTP).
TRUST_X_FORWARDED_PROTO = env.bool("TRUST_X_FORWARDED_PROTO", default=False)
if TRUST_X_FORWARDED_PROTO:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp), enforced: scripts and styles from our own origin only, no
# inline script or style anywhere (htmx's indicator style is in board.css, see base.html).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Celery: by default a broker that needs no server (files under var/); production sets
# CELERY_BROKER_URL=redis://...
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(VAR_DIR / "celery" / "queue"),
        "data_folder_out": str(VAR_DIR / "celery" / "queue"),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
    if CELERY_BROKER_URL.startswith("filesystem")
    else {}
)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # httpx logs every request URL at INFO; URLs carry no token, but keep the noise down.
    "loggers": {"httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}},
}

# Where an integration may send its API token: https://<domain>.pipedrive.com always; anything
# else only when listed here as scheme://host[:port] ("*" as the port: any port on that host).
# Plain http is refused except to a loopback address. The demo and the tests allow the sandbox
# with http://127.0.0.1:*.
PIPEDRIVE_ALLOWED_BASE_URLS = env.list("PIPEDRIVE_ALLOWED_BASE_URLS", default=[])

# Where Pipedrive (webhooks) and Fortnox (OAuth redirect) reach this app; no trailing slash.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

# Fortnox (accounting provider). The app's client id and secret come from the environment only:
# the secret is never stored in the database, logged or shown. The OAuth redirect URI is
# PUBLIC_BASE_URL + /accounting/fortnox/callback/. The base URLs are used only when they are
# Fortnox's own over https or listed in FORTNOX_ALLOWED_BASE_URLS (scheme://host[:port], "*" any
# port; plain http only to loopback: the demo and tests allow the sandbox with http://127.0.0.1:*).
FORTNOX_CLIENT_ID = env.str("FORTNOX_CLIENT_ID", default="")
FORTNOX_CLIENT_SECRET = env.str("FORTNOX_CLIENT_SECRET", default="")
FORTNOX_AUTH_BASE_URL = env.str("FORTNOX_AUTH_BASE_URL", default="https://apps.fortnox.se")
FORTNOX_API_BASE_URL = env.str("FORTNOX_API_BASE_URL", default="https://api.fortnox.se")
FORTNOX_ALLOWED_BASE_URLS = env.list("FORTNOX_ALLOWED_BASE_URLS", default=[])

# Webhooks in (integrations/inbound/): an event's processing waits this long, so that a burst of
# events for one record is fetched once; the board counts as "live" while an event arrived within
# WEBHOOK_LIVE_MINUTES (or the last check found the webhooks registered).
WEBHOOK_COALESCE_SECONDS = env.float("WEBHOOK_COALESCE_SECONDS", default=2.0)
WEBHOOK_LIVE_MINUTES = env.int("WEBHOOK_LIVE_MINUTES", default=60)

# Metrics and one currency (dealflow/fx.py, dealflow/metrics/): portfolio figures are converted to
# REPORTING_CURRENCY (a company's own pages use its reporting_currency) with ECB euro reference
# rates, loaded offline at migrate time and refreshed daily by beat from FX_RATES_URL.
REPORTING_CURRENCY = env.str("REPORTING_CURRENCY", default="SEK").upper()
FX_RATES_URL = env.str("FX_RATES_URL", default="https://www.ecb.europa.eu/stats/eurofxref/eurofxref.zip")

# Caches. "board_cards": the board's card HTML (dealflow/card_fragments.py), per process and keyed
# by what each card shows, so it is never stale and needs no shared store; room for a few boards'
# cards at a kilobyte or two each.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "board_cards": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "board-cards",
        "OPTIONS": {"MAX_ENTRIES": 5000},
    },
}
