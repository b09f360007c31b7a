"""Settings for every run mode, read from the environment (see .env.example).

One code path: with DATABASE_URL / REDIS_URL unset, a private PostgreSQL and
Redis start under ./var/ (desk.embedded); with them set, those servers are used.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-for-debug-runs"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = os.environ.get("SITE_URL", f"http://127.0.0.1:{os.environ.get('PORT', '8000')}")

# --- services -----------------------------------------------------------------

DATABASE_URL = os.environ.get("DATABASE_URL", "")
REDIS_URL = os.environ.get("REDIS_URL", "")
if (not DATABASE_URL or not REDIS_URL) and not (DEBUG or env_bool("EMBEDDED_SERVICES")):
    # A production process must never quietly keep its data under ./var/.
    raise ImproperlyConfigured("DATABASE_URL and REDIS_URL must be set when DEBUG is off.")
if not DATABASE_URL or not REDIS_URL:
    from desk import embedded

    _embedded: embedded.Started | None = embedded.ensure_running()
    DATABASE_URL = DATABASE_URL or _embedded.database_url
    REDIS_URL = REDIS_URL or _embedded.redis_url
    os.environ.setdefault("DATABASE_URL", DATABASE_URL)
    os.environ.setdefault("REDIS_URL", REDIS_URL)

# The web server runs each request in a thread of its own, so a connection
# kept per thread is never reused: it takes connections from a pool shared by
# the process (DB_POOL_MAX_SIZE > 0) instead. Workers keep their threads, so
# persistent connections (DB_CONN_MAX_AGE) serve them.
DB_POOL_MAX_SIZE = int(os.environ.get("DB_POOL_MAX_SIZE", "0"))
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=0 if DB_POOL_MAX_SIZE else int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=not DB_POOL_MAX_SIZE,
    )
}
if DB_POOL_MAX_SIZE:
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        # Opened at start: a burst (webhooks redelivered after an outage) must not
        # wait for new PostgreSQL backends while it is being answered.
        "min_size": int(os.environ.get("DB_POOL_MIN_SIZE", str(DB_POOL_MAX_SIZE))),
        "max_size": DB_POOL_MAX_SIZE,
        # A request waits this long for a free connection before it is answered 503.
        # While PostgreSQL is away no connection comes free, so this is how long a
        # person waits to be told: short, and well inside any proxy's timeout.
        "timeout": float(os.environ.get("DB_POOL_TIMEOUT", "5")),
    }
# Parameters travel apart from the statement, and a statement run more than
# DB_PREPARE_THRESHOLD times on a connection is prepared once and planned from
# then on by PostgreSQL's plan cache. Most of what the database spends on an
# agent run is parsing and planning short statements, not running them
# (docs/pipeline-throughput.md). DB_PREPARED_STATEMENTS=0 goes back to
# statements with their values quoted in, e.g. behind a transaction-mode pooler.
if os.environ.get("DB_PREPARED_STATEMENTS", "1") != "0":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True,
        prepare_threshold=int(os.environ.get("DB_PREPARE_THRESHOLD", "2")),
    )
DATABASES["default"].setdefault("TEST", {})
if os.environ.get("TEST_DATABASE_NAME"):
    DATABASES["default"]["TEST"]["NAME"] = os.environ["TEST_DATABASE_NAME"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def _redis_py_url(url: str) -> str:
    """redis-py and channels-redis spell a socket unix://; kombu spells it redis+socket://."""
    return url.replace("redis+socket://", "unix://", 1)


def _kombu_url(url: str) -> str:
    return url.replace("unix://", "redis+socket://", 1)


REDIS_URL = _redis_py_url(REDIS_URL)

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": os.environ.get("REDIS_KEY_PREFIX", "desk"),
    }
}

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [REDIS_URL],
            "prefix": os.environ.get("REDIS_KEY_PREFIX", "desk") + ":asgi",
            "capacity": 500,
            "expiry": 30,
            # A member not heard from in two minutes is gone: live sockets join
            # their groups again every 30 s (desk.consumers), so one that died
            # without leaving stops costing every push within minutes.
            "group_expiry": 120,
        },
    }
}

# --- Celery: queues per kind of work so agents never starve money-moving actions.

CELERY_BROKER_URL = _kombu_url(REDIS_URL)
CELERY_TASK_DEFAULT_QUEUE = "agents"
CELERY_TASK_ROUTES = {
    "agents.apply_retention": {"queue": "sla"},
    "agents.close_interrupted_runs": {"queue": "sla"},
    # Proactive messages and the outbox: never in the way of contacts or money.
    "agents.evaluate_nudges": {"queue": "nudges"},
    "agents.follow_up_scan": {"queue": "nudges"},
    "agents.follow_up_missed_scans": {"queue": "nudges"},
    "agents.sweep_delays": {"queue": "nudges"},
    "agents.nudge_case_event": {"queue": "nudges"},
    "integrations.send_message": {"queue": "nudges"},
    "integrations.send_messages": {"queue": "nudges"},
    "integrations.send_due_messages": {"queue": "nudges"},
    "integrations.fail_interrupted_sends": {"queue": "nudges"},
    "agents.*": {"queue": "agents"},
    "desk.execute_proposal": {"queue": "actions"},
    "desk.sweep_sla": {"queue": "sla"},
    "desk.refresh_board_days": {"queue": "sla"},
    "desk.reopen_missed": {"queue": "sla"},
    "desk.*": {"queue": "actions"},
    # Webhook intake is acknowledged first and applied here, apart from money.
    "integrations.process_webhook": {"queue": "intake"},
    "integrations.process_waiting_webhooks": {"queue": "intake"},
    "integrations.*": {"queue": "actions"},
    "billing.*": {"queue": "sla"},
}
CELERY_QUEUES_ALL = "agents,actions,nudges,sla,intake"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Processes, not threads: soft time limits need a process per task, and the agent's
# ORM and template work is Python that one interpreter lock would serialise. Two per
# core, because a contact spends about half its time waiting on PostgreSQL and Redis:
# a second process per core runs while the first waits. `make run` and the loop
# benchmark both start workers with exactly this.
CELERY_WORKER_POOL = "prefork"
# Celery's Django fix-up closes the database connection around every task unless
# told how many tasks may reuse it. A connection per task starts a PostgreSQL
# backend per task (a fork, authentication, cold catalogue caches): reuse it, and
# let Django's own rules close it (DB_CONN_MAX_AGE, or an error), as desk.celery
# applies them around each task the way Django does around a request.
CELERY_DB_REUSE_MAX = 1_000_000
CELERY_WORKER_CONCURRENCY = int(os.environ.get("WORKER_CONCURRENCY") or 2 * (os.cpu_count() or 1))
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
# Longer than any task may run (hard limit above), or Redis hands a task
# still being worked on to a second worker.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    # Separate key spaces let a test run share a Redis with a running desk.
    "global_keyprefix": os.environ.get("REDIS_KEY_PREFIX", "desk") + ":",
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(BASE_DIR / "var" / "celerybeat-schedule")

# --- Django -------------------------------------------------------------------

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "channels",
    "django_htmx",
    "template_partials",
    "anymail",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "tenants",
    "integrations",
    "billing",
    "desk",
    "agents",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "tenants.headers.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "tenants.middleware.LoginRequiredMiddleware",
]

ROOT_URLCONF = "desk.urls"
ASGI_APPLICATION = "desk.asgi.application"

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
                "tenants.context_processors.memberships",
                "desk.outage.service_status",
            ],
        },
    }
]

AUTH_USER_MODEL = "tenants.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "desk:inbox"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_ADAPTER = "tenants.auth.InviteOnlyAccountAdapter"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key"}
ACCOUNT_REAUTHENTICATION_TIMEOUT = 600
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Post-purchase desk"
# Two-factor authentication for everyone who approves money (see tenants/security.py).
MFA_REQUIRED_FOR_APPROVALS = env_bool("MFA_REQUIRED_FOR_APPROVALS", not DEBUG)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# Secrets at rest (connection credentials, webhook secrets) are encrypted with
# this key; rotating SECRET_KEY must not make them unreadable, so it is its own.
ENCRYPTION_KEY = os.environ.get("ENCRYPTION_KEY", "")
if not ENCRYPTION_KEY and not DEBUG:
    raise ImproperlyConfigured("ENCRYPTION_KEY must be set when DEBUG is off.")

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "desk@localhost")
# The relay behind django.core.mail.backends.smtp.EmailBackend.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("EMAIL_USE_TLS", "0") == "1"
EMAIL_TIMEOUT = 10
# Postmark's delivery events authenticate with HTTP basic credentials in the
# webhook URL ("user:password"). Unset, a random one is made per process,
# which refuses every event until it is configured.
ANYMAIL = {
    "WEBHOOK_SECRET": os.environ.get("ANYMAIL_WEBHOOK_SECRET")
    or f"desk:{secrets.token_urlsafe(24)}",
}

# --- production hardening (all on unless DEBUG) --------------------------------

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# /healthz answers load balancers over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(levelname)-7s %(name)s: %(message)s"}},
    "filters": {"redact": {"()": "tenants.redaction.RedactPersonalData"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "pgserver": {"level": "WARNING"},
        # One line per outbound request is noise; failures still surface.
        "httpx": {"level": "WARNING"},
    },
}

# --- product defaults -----------------------------------------------------------

DEMO_SIMULATOR_INTERVAL = float(os.environ.get("DEMO_SIMULATOR_INTERVAL", "6"))
# A customer's SMS, WhatsApp or email joins their open contact if it was active
# within this many days; otherwise it starts a new contact.
INBOUND_THREAD_DAYS = int(os.environ.get("INBOUND_THREAD_DAYS", "7"))

CELERY_BEAT_SCHEDULE = {
    "requeue-stalled-work": {"task": "desk.requeue_stalled", "schedule": 60.0},
    # Agent runs a killed worker left "running" (the contact itself is requeued above).
    "close-interrupted-runs": {
        "task": "agents.close_interrupted_runs",
        "schedule": 300.0,
        "options": {"expires": 300},
    },
    # Webhook events whose task was lost; each run takes those over a minute old.
    "process-waiting-webhooks": {
        "task": "integrations.process_waiting_webhooks",
        "schedule": 30.0,
        "options": {"expires": 30},
    },
    # Hourly: each tenant's month ends at a different UTC hour.
    "freeze-billing-statements": {
        "task": "billing.freeze_statements",
        "schedule": crontab(minute=15),
    },
    # Breaches must fire within seconds of the deadline; expired runs are dropped.
    "sweep-sla": {"task": "desk.sweep_sla", "schedule": 10.0, "options": {"expires": 10}},
    # Board rollups: a day is summarised soon after it ends in the tenant's zone.
    "refresh-board-days": {
        "task": "desk.refresh_board_days",
        "schedule": 300.0,
        "options": {"expires": 300},
    },
    # Scans whose follow-up task was lost.
    "follow-up-missed-scans": {
        "task": "agents.follow_up_missed_scans",
        "schedule": 120.0,
        "options": {"expires": 120},
    },
    # Time-based nudges (delays, stalls); scan-driven ones run per event.
    "nudge-delay-sweep": {"task": "agents.sweep_delays", "schedule": 900.0},
    # Sends what is due, including messages held back by quiet hours.
    "send-due-messages": {"task": "integrations.send_due_messages", "schedule": 60.0},
    # Messages whose sender died between the claim and the provider's answer.
    "fail-interrupted-sends": {
        "task": "integrations.fail_interrupted_sends",
        "schedule": 300.0,
        "options": {"expires": 300},
    },
    # Resolved contacts whose answer failed while the process that saw it died.
    "reopen-missed": {
        "task": "desk.reopen_missed",
        "schedule": 300.0,
        "options": {"expires": 300},
    },
    # Daily, at a quiet hour: personal data, webhook payloads and agent traces
    # past each merchant's retention window.
    "apply-retention": {"task": "agents.apply_retention", "schedule": crontab(hour=3, minute=40)},
    # Active shipments come due at least every 2 hours; overlapping runs are safe.
    "refresh-tracking": {
        "task": "integrations.refresh_tracking",
        "schedule": 120.0,
        "kwargs": {"limit": 300},
    },
    # Stores without webhooks (Magento Open Source): orders changed since the last look.
    "poll-store-orders": {
        "task": "integrations.poll_store_orders",
        "schedule": 120.0,
        "options": {"expires": 120},
    },
    # UPS Track Alert watches a number for 14 days: subscribe new shipments, renew moving ones.
    "subscribe-tracking-pushes": {
        "task": "integrations.subscribe_tracking_pushes",
        "schedule": 300.0,
        "options": {"expires": 300},
    },
}
