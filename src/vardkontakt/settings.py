"""Vårdkontakt settings: one module, read from the environment.

Production is the default. Without ``VK_DEMO=true`` the process refuses to start unless the
secret key, allowed hosts, the two OpenID Connect relying parties and the SMS gateway are set;
a forgotten or misspelt variable never falls back to the demo. The demo (``make demo``, the test
settings in ``tests/settings.py``) asks for itself with ``VK_DEMO=true``: SQLite under ``var/``,
the demo identity provider, and still no DEBUG unless ``DJANGO_DEBUG=true`` is added as well.
See docs/operations.md.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from vardkontakt.core.databases import REPLICA, pooled, replica_settings, with_pool
from vardkontakt.core.env import env_bool, env_int, env_list, env_str

PACKAGE_DIR = Path(__file__).resolve().parent
BASE_DIR = PACKAGE_DIR.parent.parent
VAR_DIR = Path(env_str("VK_VAR_DIR", str(BASE_DIR / "var")))

# The demo is asked for explicitly; anything else is production (safe by default).
DEMO = env_bool("VK_DEMO", False)
PRODUCTION = not DEMO
# DEBUG pages show settings, SQL and data to anyone: only ever in a demo or development installation.
DEBUG = env_bool("DJANGO_DEBUG", False)
if DEBUG and not DEMO:
    raise ImproperlyConfigured(
        "DJANGO_DEBUG=true is only allowed together with VK_DEMO=true (a demo or development installation)."
    )

# The demo identity provider lets anyone pick any person. It must never run in production.
DEMO_IDP_ENABLED = env_bool("VK_DEMO_IDP", DEMO)
if DEMO_IDP_ENABLED and PRODUCTION:
    raise ImproperlyConfigured("The demo identity provider (VK_DEMO_IDP) may only run with VK_DEMO=true.")

_missing: list[str] = []


def _required(name: str, demo_default: str) -> str:
    value = env_str(name)
    if value:
        return value
    if PRODUCTION:
        _missing.append(name)
        return ""
    return demo_default


SECRET_KEY = _required("DJANGO_SECRET_KEY", "demo-only-insecure-key-never-use-in-production-0123456789")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"])
if PRODUCTION and not ALLOWED_HOSTS:
    _missing.append("DJANGO_ALLOWED_HOSTS")
if "*" in ALLOWED_HOSTS and PRODUCTION:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must name the hosts; '*' is not allowed in production.")

# The address residents and staff reach the service on; the demo provider's issuer derives from it.
SITE_URL = env_str("VK_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "vardkontakt.core",
    "vardkontakt.identity",
    "vardkontakt.organisation",
    "vardkontakt.access",
    "vardkontakt.notifications",
    "vardkontakt.cases",
    "vardkontakt.records",
    "vardkontakt.fees",
    "vardkontakt.fhir",
    "vardkontakt.booking",
    "vardkontakt.operations",
    "vardkontakt.usage_statistics",
    "vardkontakt.home",
    "vardkontakt.onboarding",
    "vardkontakt.regions",
    "vardkontakt.letters",
    "vardkontakt.kiosk",
    "vardkontakt.payments",
    "vardkontakt.video",
    "vardkontakt.demo",
]
if DEMO_IDP_ENABLED:
    INSTALLED_APPS.append("vardkontakt.demo_idp")

MIDDLEWARE = [
    "vardkontakt.core.proxy.ForwardedForMiddleware",
    "vardkontakt.core.request_id.RequestIdMiddleware",
    "vardkontakt.core.replica.ReadYourWritesMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "vardkontakt.core.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "vardkontakt.core.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "vardkontakt.identity.middleware.SessionTimeoutMiddleware",
    "vardkontakt.access.middleware.DenyByDefaultMiddleware",
    "vardkontakt.access.acting.ActingForMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "vardkontakt.core.middleware.PrivateResponseMiddleware",
]

ROOT_URLCONF = "vardkontakt.urls"
WSGI_APPLICATION = "vardkontakt.wsgi.application"
# HTTP and the video visits' WebSockets (asgi.py), served by uvicorn (deploy/gunicorn.conf.py).
ASGI_APPLICATION = "vardkontakt.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "vardkontakt.core.context_processors.service",
                "vardkontakt.access.acting.context",
                "vardkontakt.operations.context_processors.operations",
                "vardkontakt.cases.inbox_counts.inbox_link",
            ],
        },
    }
]

_default_database = f"sqlite:///{VAR_DIR / 'vardkontakt.sqlite3'}"
DATABASES: dict[str, dict[str, Any]] = {
    "default": dict(
        dj_database_url.config(
            default=_default_database,
            # Under ASGI (uvicorn) every request's view runs in a thread of its own, so a connection
            # kept open would stay with a thread that ends: deploy/gunicorn.conf.py sets 0 there.
            conn_max_age=env_int("VK_DB_CONN_MAX_AGE", 60, minimum=0),
            conn_health_checks=True,
        )
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the worker write while the web server reads; IMMEDIATE avoids lock upgrades.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;",
        "transaction_mode": "IMMEDIATE",
    }
    # A file, not the default in-memory database: shared-cache memory databases lock whole tables
    # without honouring busy_timeout, so concurrent tests would measure an artefact of the test setup.
    # One file per test process, so two test runs side by side never share (and break) one database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-vardkontakt-{os.getpid()}.sqlite3")}
elif env_bool("VK_DB_PREPARED_STATEMENTS", True):
    # PostgreSQL: parameters bound on the server, and a statement sent five times on a connection
    # is prepared there (psycopg), so PostgreSQL parses and plans it once instead of on every request
    # (the booking rush's database CPU per booking: about a third less, docs/benchmarks.md). On by
    # default for a direct connection; VK_DB_POOLER=pgbouncer turns both off (core/databases.py:
    # PgBouncer 1.18 of Debian 12 cannot follow prepared statements in transaction mode), and so
    # does VK_DB_PREPARED_STATEMENTS=false.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"server_side_binding": True, "prepare_threshold": 5})
# PgBouncer in transaction pooling mode between the web nodes and PostgreSQL (core/databases.py).
DATABASE_POOLER = env_str("VK_DB_POOLER", "")
DATABASES["default"] = pooled(DATABASES["default"], DATABASE_POOLER)
# Connections from a pool in the process (at most this many; 0: none): the ASGI workers', where
# every socket's database call would otherwise open a connection of its own (gunicorn.conf.py).
DATABASE_POOL_SIZE = env_int("VK_DB_POOL_SIZE", 0, minimum=0)
DATABASES["default"] = with_pool(DATABASES["default"], DATABASE_POOL_SIZE)
# A streaming replica for the reads declared with core.replica.reads_from_replica (statistics);
# everything else, and everyone who has just written, reads the primary.
REPLICA_DATABASE_URL = env_str("VK_REPLICA_DATABASE_URL", "")
if REPLICA_DATABASE_URL:
    DATABASES[REPLICA] = replica_settings(
        REPLICA_DATABASE_URL, connect_timeout=env_int("VK_REPLICA_CONNECT_TIMEOUT", 2, minimum=1)
    )
DATABASE_ROUTERS = ["vardkontakt.core.replica.ReplicaRouter"]
# Above this lag (seconds of replay behind the primary) the replica is not read; /healthz says
# "degraded". How often a process asks the replica its state (seconds, per process).
REPLICA_MAX_LAG_SECONDS = env_int("VK_REPLICA_MAX_LAG_SECONDS", 30, minimum=1)
REPLICA_STATE_SECONDS = env_int("VK_REPLICA_STATE_SECONDS", 2, minimum=0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "identity.User"
AUTHENTICATION_BACKENDS = ["vardkontakt.identity.backends.OidcSubjectBackend"]
LOGIN_URL = "identity:login"
# Nobody has a password; this only matters for hashing unusable-password markers quickly.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]

# Sessions: a new id at login (django.contrib.auth), server-side store, idle and absolute limits.
# The store is the database, or Redis where VK_REDIS_URL is set (see CACHES below).
SESSION_ENGINE = "django.contrib.sessions.backends.db"
# A session started by a login that was never finished (state, nonce, PKCE verifier) ends this soon;
# the worker removes expired session rows (identity.tasks.remove_expired_sessions).
LOGIN_PENDING_SESSION_SECONDS = env_int("VK_LOGIN_PENDING_SESSION_SECONDS", 15 * 60, minimum=60)
SESSION_IDLE_TIMEOUT_MINUTES = env_int("VK_SESSION_IDLE_MINUTES", 30, minimum=1)
SESSION_ABSOLUTE_TIMEOUT_HOURS = env_int("VK_SESSION_ABSOLUTE_HOURS", 12, minimum=1)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_TIMEOUT_HOURS * 3600
# The session's user (with their patient or staff row) is kept in the shared cache this long
# instead of read from the database on every request (identity/user_cache.py: any change to them
# is seen on the next request; the limit bounds a change made without a signal). 0: always read.
USER_CACHE_SECONDS = env_int("VK_USER_CACHE_SECONDS", 300, minimum=0)
# Appointing a proxy, changing contact details and sealing need a login this recent (step-up).
STEPUP_MAX_AGE_MINUTES = env_int("VK_STEPUP_MINUTES", 10, minimum=1)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"  # Lax: the identity provider redirects back with a top-level GET.
SESSION_COOKIE_SECURE = PRODUCTION
SESSION_COOKIE_NAME = "vk_session"
CSRF_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "vardkontakt.core.views.csrf_failure"

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Added to every response, static files too (core.middleware.SecurityHeadersMiddleware).
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=()"
CROSS_ORIGIN_RESOURCE_POLICY = "same-origin"
SECURE_HSTS_SECONDS = env_int("VK_HSTS_SECONDS", 31536000 if PRODUCTION else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_SSL_REDIRECT = env_bool("VK_SSL_REDIRECT", PRODUCTION)
BEHIND_TLS_PROXY = env_bool("VK_BEHIND_TLS_PROXY", False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Addresses of the reverse proxies whose X-Forwarded-For names the client (core/proxy.py); empty:
# REMOTE_ADDR stays the peer's address.
TRUSTED_PROXIES = env_list("VK_TRUSTED_PROXIES", [])

# Cache: Redis where VK_REDIS_URL is set (rate limits shared by every web process), else memory.
REDIS_URL = env_str("VK_REDIS_URL", "")
# Installations (or test runs) sharing one Redis database keep apart by the prefix.
CACHE_KEY_PREFIX = env_str("VK_CACHE_KEY_PREFIX", "vk")
# A Redis that does not answer fails a request within a second or two (503, docs/operations.md
# "Redis down") instead of holding a web thread for the kernel's TCP timeout.
REDIS_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 2}
CACHES: dict[str, dict[str, Any]] = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            "OPTIONS": REDIS_OPTIONS,
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "vardkontakt"}
    )
}
if REDIS_URL:
    # Sessions on Redis: no database statement per request for them, shared by every web node (a
    # logout ends the session on all of them), the limits also as the key's lifetime
    # (identity/sessions.py). Their own alias and prefix (the default cache's keys never collide
    # with them; Redis's clear() empties the whole Redis database all the same).
    CACHES["sessions"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": f"{CACHE_KEY_PREFIX}-session",
        "OPTIONS": REDIS_OPTIONS,
    }
    SESSION_CACHE_ALIAS = "sessions"
    SESSION_ENGINE = "vardkontakt.identity.sessions"
# The video visits' signalling (video/consumers.py) passes messages between the sockets of a room
# through a channel layer: on Redis where VK_REDIS_URL is set, which every deployment with more than
# one web process needs (two people in one room may be connected to different processes); in memory
# otherwise, which only reaches the sockets of the same process (the demo, a single worker).
CHANNEL_LAYERS: dict[str, dict[str, Any]] = {
    "default": (
        {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": "vk-video", "capacity": 200, "expiry": 30},
        }
        if REDIS_URL
        else {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 200, "expiry": 30}}
    )
}
# Video visits' media go peer to peer; STUN finds a browser's public address and TURN relays when
# no direct path exists (coturn, deploy/coturn/turnserver.conf). TURN credentials are made per
# person and expire (the TURN REST API's shared secret, video/turn.py): VK_TURN_SECRET must equal
# coturn's static-auth-secret. Without TURN URLs only STUN (or nothing) is offered to the browsers.
TURN_URLS = env_list("VK_TURN_URLS", [])
STUN_URLS = env_list("VK_STUN_URLS", [])
TURN_SECRET = env_str("VK_TURN_SECRET", "")
TURN_CREDENTIAL_SECONDS = env_int("VK_TURN_CREDENTIAL_SECONDS", 4 * 3600, minimum=60)
# A room token (the page's ticket for its WebSocket) is single-use and expires this soon.
VIDEO_TOKEN_SECONDS = env_int("VK_VIDEO_TOKEN_SECONDS", 120, minimum=10)
# How often a drop-in caller is told their place, and the nurses the queue (seconds).
VIDEO_QUEUE_UPDATE_SECONDS = env_int("VK_VIDEO_QUEUE_UPDATE_SECONDS", 5, minimum=1)
# Threads per process for the drop-in queues' socket database calls (video/queue_consumers.py):
# a connect's statements wait on PostgreSQL, and several connects wait side by side. Each holds a
# connection while it runs: keep it below VK_DB_POOL_SIZE.
VIDEO_SOCKET_DB_THREADS = env_int("VK_VIDEO_SOCKET_DB_THREADS", 4, minimum=1)
# The Permissions-Policy of the video pages, the only ones that may use the camera and microphone.
VIDEO_PERMISSIONS_POLICY = "camera=(self), microphone=(self), geolocation=()"

# Rate limits (core/ratelimit.py): name -> (attempts in the window, window s, first lockout s, longest
# lockout s). Lockouts double while the key keeps reaching the limit within a day.
RATE_LIMITS: dict[str, tuple[int, int, int, int]] = {
    # Wrong client secrets at the FHIR token endpoint, per client id and per address.
    "fhir_token_client": (5, 15 * 60, 60, 3600),
    "fhir_token_address": (20, 15 * 60, 5 * 60, 3600),
    # Logins started (each writes a session and calls the identity provider), per address.
    "login_start": (
        env_int("VK_RATE_LIMIT_LOGIN_STARTS_PER_MINUTE", 30, minimum=1),
        60,
        60,
        15 * 60,
    ),
    # Identifying at a check-in kiosk by personnummer and the visit's time, per kiosk device: a
    # wrong pair counts, so nobody can try numbers and times at the kiosk (or with its cookie).
    "kiosk_identify": (env_int("VK_RATE_LIMIT_KIOSK_TRIES_PER_10_MINUTES", 10, minimum=1), 10 * 60, 60, 30 * 60),
    # The demo identity provider's person chooser and token endpoint, per address.
    "demo_idp": (env_int("VK_RATE_LIMIT_DEMO_IDP_PER_MINUTE", 60, minimum=1), 60, 60, 15 * 60),
}

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        # The residents' app: its service worker and manifest, from this site only.
        "worker-src": ["'self'"],
        "manifest-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

LANGUAGE_CODE = "sv"
LANGUAGES = [("sv", _("Swedish")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "vk_language"
LANGUAGE_COOKIE_SECURE = PRODUCTION
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "Europe/Stockholm"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# Its own setting so a deployment can keep the served files apart from private state (uploads).
STATIC_ROOT = Path(env_str("VK_STATIC_ROOT", str(VAR_DIR / "static")))
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
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

# Outside production WhiteNoise serves straight from the app directories (no collectstatic step),
# also under the test runner, which forces DEBUG off.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION

TASKS = {"default": {"BACKEND": env_str("VK_TASKS_BACKEND", "django_tasks_db.DatabaseBackend")}}
# The worker writes a heartbeat this often; /healthz fails when it is older than the limit.
WORKER_HEARTBEAT_SECONDS = env_int("VK_WORKER_HEARTBEAT_SECONDS", 30, minimum=1)
WORKER_HEARTBEAT_MAX_AGE_SECONDS = env_int("VK_WORKER_HEARTBEAT_MAX_AGE_SECONDS", 180, minimum=1)

# Login records (who logged in, who was refused: operations.LoginRecord, read by support) older
# than this many days are removed by the worker (operations.tasks.remove_old_login_records).
LOGIN_RECORD_RETENTION_DAYS = env_int("VK_LOGIN_RECORD_RETENTION_DAYS", 365, minimum=30)

PERIODIC_JOBS = [
    "vardkontakt.notifications.tasks.sweep_outbox",
    "vardkontakt.cases.tasks.remove_abandoned_uploads",
    "vardkontakt.cases.tasks.deadline_digest",
    "vardkontakt.operations.tasks.remove_old_login_records",
    "vardkontakt.access.checkpoints.checkpoint_if_due",
    "vardkontakt.identity.tasks.remove_expired_sessions",
    "vardkontakt.booking.tasks.roll_schedules",
    "vardkontakt.booking.notices.send_due_reminders",
    "vardkontakt.booking.waiting_list.offers_renew_all",
    "vardkontakt.regions.catalogue.end_access_of_departed",
    "vardkontakt.letters.tasks.issue_letters",
    "vardkontakt.letters.tasks.letters_on_paper",
    "vardkontakt.letters.tasks.remove_expired_letters",
    "vardkontakt.payments.tasks.reconcile_payments",
    "vardkontakt.payments.tasks.invoices_due",
]

# Paper letters (letters/services.py): print batches are written to this folder for the
# print-and-mail provider (one PDF and one JSON manifest each), at most this often, and at most
# this many letters per batch.
LETTERS_PRINT_DIR = env_str("VK_LETTERS_PRINT_DIR", str(VAR_DIR / "print"))
LETTERS_PRINT_EVERY_MINUTES = env_int("VK_LETTERS_PRINT_EVERY_MINUTES", 60, minimum=0)
LETTERS_BATCH_MAX = env_int("VK_LETTERS_BATCH_MAX", 5000, minimum=1)
# Where the provider takes batches by SFTP (letters/sftp.py): its server, the account, the
# platform's private key file (key authentication only), the server's host key as one known_hosts
# line (pinned: any other key is refused) and the directory to upload to. Unset host: the print
# folder is the delivery.
LETTERS_SFTP_HOST = env_str("VK_LETTERS_SFTP_HOST")
LETTERS_SFTP_PORT = env_int("VK_LETTERS_SFTP_PORT", 22, minimum=1)
LETTERS_SFTP_USER = env_str("VK_LETTERS_SFTP_USER")
LETTERS_SFTP_KEY_FILE = env_str("VK_LETTERS_SFTP_KEY_FILE")
LETTERS_SFTP_HOST_KEY = env_str("VK_LETTERS_SFTP_HOST_KEY")
LETTERS_SFTP_DIR = env_str("VK_LETTERS_SFTP_DIR", ".")
if LETTERS_SFTP_HOST and not (LETTERS_SFTP_USER and LETTERS_SFTP_KEY_FILE and LETTERS_SFTP_HOST_KEY):
    raise ImproperlyConfigured(
        "VK_LETTERS_SFTP_HOST needs VK_LETTERS_SFTP_USER, VK_LETTERS_SFTP_KEY_FILE and VK_LETTERS_SFTP_HOST_KEY"
    )

# The booking waiting room (core/waiting_room.py): requests in progress per process, how many
# bookings and (behind the gunicorn gate) confirmation pages may wait for a turn and for how
# long, and the Retry-After (on average) of the 503 when a request does not get one.
# Measured on 2 cores (bench/booking_rush.py): 3 in progress keeps both busy; more only adds
# waiting for the GIL and for row locks. A gthread worker needs threads for all of them plus
# one or two spare (deploy/gunicorn.conf.py: 12).
WAITING_ROOM_CONCURRENCY = env_int("VK_WAITING_ROOM_CONCURRENCY", 3, minimum=1)
WAITING_ROOM_QUEUE = env_int("VK_WAITING_ROOM_QUEUE", 3, minimum=0)
WAITING_ROOM_PAGE_QUEUE = env_int("VK_WAITING_ROOM_PAGE_QUEUE", 4, minimum=0)
WAITING_ROOM_WAIT_SECONDS = env_int("VK_WAITING_ROOM_WAIT_SECONDS", 2, minimum=0)
WAITING_ROOM_RETRY_AFTER_SECONDS = env_int("VK_WAITING_ROOM_RETRY_AFTER", 5, minimum=1)

# Patients' files: outside every served folder; only the case's policy hands them out.
UPLOAD_ROOT = env_str("VK_UPLOAD_ROOT", str(VAR_DIR / "uploads"))
DATA_UPLOAD_MAX_NUMBER_FILES = 10  # a hard cap before any form code runs; the form allows 5
# Virus scanning of uploads by ClamAV's daemon (core/virus_scan.py): its Unix socket, or host:port.
# With neither set nothing is scanned; when set and clamd does not answer, uploads are refused.
CLAMAV_SOCKET = env_str("VK_CLAMAV_SOCKET", "")
CLAMAV_ADDRESS = env_str("VK_CLAMAV_ADDRESS", "")
CLAMAV_TIMEOUT_SECONDS = env_int("VK_CLAMAV_TIMEOUT_SECONDS", 30, minimum=1)
if CLAMAV_ADDRESS and not CLAMAV_ADDRESS.rpartition(":")[2].isdigit():
    raise ImproperlyConfigured("VK_CLAMAV_ADDRESS must be host:port, e.g. 127.0.0.1:3310.")
# The FHIR API reads its body itself (request.body keeps the browser form limit): a Bundle of
# 10,000 resources is about 10 MB.
FHIR_MAX_REQUEST_BYTES = env_int("VK_FHIR_MAX_REQUEST_BYTES", 32 * 1024 * 1024, minimum=1024)
# FHIR resources nest about ten levels (a Bundle's entry, a resource, a CodeableConcept, a coding);
# deeper JSON is refused before it is parsed (a parser recurses once per level).
FHIR_MAX_JSON_DEPTH = env_int("VK_FHIR_MAX_JSON_DEPTH", 64, minimum=16)
# How long a slot another booking system published is held for a resident on the confirm page.
EXTERNAL_SLOT_HOLD_MINUTES = env_int("VK_EXTERNAL_SLOT_HOLD_MINUTES", 5, minimum=1)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# --- E-mail and SMS (content-free notices only; see notifications/messages.py) ---
EMAIL_BACKEND = env_str(
    "VK_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if PRODUCTION else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
EMAIL_HOST = env_str("VK_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("VK_EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("VK_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env_str("VK_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("VK_EMAIL_STARTTLS", False)
EMAIL_TIMEOUT = env_int("VK_EMAIL_TIMEOUT_SECONDS", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str("VK_EMAIL_FROM", "Vårdkontakt <no-reply@vardkontakt.example>")
SMS_BACKEND = env_str("VK_SMS_BACKEND", "46elks" if PRODUCTION else "file")
if SMS_BACKEND not in ("file", "46elks"):
    raise ImproperlyConfigured("VK_SMS_BACKEND must be 'file' or '46elks'.")
SMS_FILE_DIR = str(VAR_DIR / "sms")
SMS_API_URL = env_str("VK_SMS_API_URL", "https://api.46elks.com")
SMS_API_USERNAME = env_str("VK_SMS_API_USERNAME", "")
SMS_API_PASSWORD = env_str("VK_SMS_API_PASSWORD", "")
# An alphanumeric sender id: at most 11 letters or digits, starting with a letter.
SMS_SENDER = env_str("VK_SMS_SENDER", "Vardkontakt")
SMS_TIMEOUT_SECONDS = env_int("VK_SMS_TIMEOUT_SECONDS", 10, minimum=1)
if SMS_BACKEND == "46elks" and not (SMS_API_USERNAME and SMS_API_PASSWORD):
    _missing.extend(["VK_SMS_API_USERNAME", "VK_SMS_API_PASSWORD"])
# Web Push (RFC 8030, payload RFC 8291, VAPID RFC 8292; notifications/webpush.py). The key pair
# comes from `manage.py vapid_keys`; without VK_VAPID_PRIVATE_KEY production offers no push. The
# demo makes one once in WEB_PUSH_DEMO_KEY_FILE. Endpoints are posted to only at these push
# services (a host or a subdomain of one), over HTTPS: a resident cannot point the server elsewhere.
WEB_PUSH_VAPID_PRIVATE_KEY = env_str("VK_VAPID_PRIVATE_KEY", "")
WEB_PUSH_DEMO_KEY_FILE = Path(env_str("VK_VAPID_DEMO_KEY_FILE", str(VAR_DIR / "vapid-demo.key")))
WEB_PUSH_VAPID_SUBJECT = env_str("VK_VAPID_SUBJECT", "mailto:no-reply@vardkontakt.example")
if not WEB_PUSH_VAPID_SUBJECT.startswith(("mailto:", "https://")):
    raise ImproperlyConfigured("VK_VAPID_SUBJECT must be a mailto: or https: address of whoever runs the service.")
WEB_PUSH_SERVICE_HOSTS = env_list(
    "VK_WEB_PUSH_SERVICE_HOSTS",
    ["fcm.googleapis.com", "push.services.mozilla.com", "push.apple.com", "notify.windows.com"],
)
WEB_PUSH_ALLOW_HTTP = False  # the tests' push service on loopback speaks plain HTTP
WEB_PUSH_TTL_SECONDS = env_int("VK_WEB_PUSH_TTL_SECONDS", 2 * 24 * 3600, minimum=0)
WEB_PUSH_TIMEOUT_SECONDS = env_int("VK_WEB_PUSH_TIMEOUT_SECONDS", 10, minimum=1)

# --- Payments (docs/payments.md). A provider left unset is not offered; nothing else depends on it. ---
# Swish for Merchants: Getswish's API root, the merchant's Swish number and, in production, the
# client certificate (mutual TLS) and the CA that Swish's server certificate must chain to.
SWISH_API_URL = env_str("VK_SWISH_API_URL", "")
SWISH_PAYEE_ALIAS = env_str("VK_SWISH_PAYEE_ALIAS", "")
SWISH_CERT_FILE = env_str("VK_SWISH_CERT_FILE", "")
SWISH_KEY_FILE = env_str("VK_SWISH_KEY_FILE", "")
SWISH_CA_FILE = env_str("VK_SWISH_CA_FILE", "")
SWISH_TIMEOUT_SECONDS = env_int("VK_SWISH_TIMEOUT_SECONDS", 10, minimum=1)
# Where Swish's callbacks come from (CIDR networks, as Getswish publishes them); empty: not checked
# here (then restrict the callback path in nginx). The client's address is REMOTE_ADDR after
# core.proxy has read the trusted proxy's X-Forwarded-For.
SWISH_CALLBACK_NETWORKS = env_list("VK_SWISH_CALLBACK_NETWORKS", [])
if PRODUCTION and SWISH_API_URL and not (SWISH_CERT_FILE and SWISH_API_URL.startswith("https://")):
    raise ImproperlyConfigured("Swish needs https and the merchant's client certificate (VK_SWISH_CERT_FILE).")
# Card payments on the provider's hosted page (Stripe Checkout): API root, secret key, webhook secret.
CARD_API_URL = env_str("VK_CARD_API_URL", "")
CARD_SECRET_KEY = env_str("VK_CARD_SECRET_KEY", "")
CARD_WEBHOOK_SECRET = env_str("VK_CARD_WEBHOOK_SECRET", "")
CARD_TIMEOUT_SECONDS = env_int("VK_CARD_TIMEOUT_SECONDS", 10, minimum=1)
# A payment still under way this long after it began is asked about (the callback may be lost).
PAYMENT_RECONCILE_AFTER_SECONDS = env_int("VK_PAYMENT_RECONCILE_AFTER_SECONDS", 60, minimum=1)

# --- OpenID Connect: one relying party for residents (e-ID), one for staff (SITHS). ---
# The assurance level required: the Swedish e-ID framework's level 3 (BankID, Freja+, SITHS).
OIDC_REQUIRED_ACR = env_str("VK_OIDC_REQUIRED_ACR", "http://id.elegnamnden.se/loa/1.0/loa3")
OIDC_LEEWAY_SECONDS = env_int("VK_OIDC_LEEWAY_SECONDS", 60, minimum=0)
OIDC_HTTP_TIMEOUT_SECONDS = env_int("VK_OIDC_HTTP_TIMEOUT_SECONDS", 10, minimum=1)
# Where the demo provider is served when it runs as its own process (demo_idp/standalone_settings.py);
# empty: inside the app, at SITE_URL.
DEMO_IDP_URL = env_str("VK_DEMO_IDP_URL", "").rstrip("/")
_demo_issuer = f"{DEMO_IDP_URL or SITE_URL}/demo-idp"
OIDC_PROVIDERS: dict[str, dict[str, str]] = {
    "resident": {
        "issuer": _required("VK_OIDC_RESIDENT_ISSUER", f"{_demo_issuer}/eid"),
        "client_id": _required("VK_OIDC_RESIDENT_CLIENT_ID", "vardkontakt-resident"),
        "client_secret": _required("VK_OIDC_RESIDENT_CLIENT_SECRET", "demo-resident-secret"),
        # The claim carrying the personal identity number (the Swedish OIDC profile's name).
        "subject_claim": env_str("VK_OIDC_RESIDENT_SUBJECT_CLAIM", "https://id.oidc.se/claim/personalIdentityNumber"),
    },
    "staff": {
        "issuer": _required("VK_OIDC_STAFF_ISSUER", f"{_demo_issuer}/siths"),
        "client_id": _required("VK_OIDC_STAFF_CLIENT_ID", "vardkontakt-staff"),
        "client_secret": _required("VK_OIDC_STAFF_CLIENT_SECRET", "demo-staff-secret"),
        "subject_claim": env_str("VK_OIDC_STAFF_SUBJECT_CLAIM", "employeeHsaId"),
    },
}

# --- The audit log (access/audit.py) ---
# Entries are keyed hashes (HMAC-SHA256) under a key the database does not hold; in production it
# comes from the environment or a file (VK_AUDIT_KEY_FILE), at least 32 characters. The demo makes
# one in AUDIT_KEY_FILE. Checkpoints (the head's sequence and hash, signed with a key derived from
# it) are appended outside the database every AUDIT_CHECKPOINT_EVERY entries and, from the worker,
# every AUDIT_CHECKPOINT_MINUTES minutes while the log grows: audit_verify then finds truncation.
AUDIT_KEY = _required("VK_AUDIT_KEY", "")
if PRODUCTION and AUDIT_KEY and len(AUDIT_KEY) < 32:
    raise ImproperlyConfigured("VK_AUDIT_KEY must be at least 32 characters (a long random secret).")
AUDIT_KEY_FILE = Path(env_str("VK_AUDIT_KEY_DEMO_FILE", str(VAR_DIR / "audit-demo.key")))
AUDIT_CHECKPOINT_DIR = Path(env_str("VK_AUDIT_CHECKPOINT_DIR", str(VAR_DIR / "audit-checkpoints")))
AUDIT_CHECKPOINT_EVERY = env_int("VK_AUDIT_CHECKPOINT_EVERY", 100, minimum=1)
AUDIT_CHECKPOINT_MINUTES = env_int("VK_AUDIT_CHECKPOINT_MINUTES", 5, minimum=1)

# The demo provider signs with one RSA key shared by every process (from a file, generated once).
DEMO_IDP_KEY_FILE = Path(env_str("VK_DEMO_IDP_KEY_FILE", str(VAR_DIR / "demo-idp-key.pem")))

if _missing:
    raise ImproperlyConfigured(
        "Vårdkontakt runs in production mode unless VK_DEMO=true is set, and production needs these settings: "
        + ", ".join(sorted(set(_missing)))
        + ". (For the demo on your own machine use `make demo`, which sets VK_DEMO=true.)"
    )

SERVICE_NAME_RESIDENTS = env_str("VK_SERVICE_NAME", "Vårdkontakt")
SERVICE_NAME_STAFF = env_str("VK_SERVICE_NAME_STAFF", "Vårdkontakt för vårdpersonal")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("VK_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
