"""AIOS settings: everything from the environment (see `.env.example`).

With DATABASE_URL / REDIS_URL unset, embedded PostgreSQL (pgvector) and Redis are started
under AIOS_DATA_DIR (default `.data/`, `.data/test/` under pytest).
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import dj_database_url
from dotenv import load_dotenv

from aios_app import embedded
from aios_app.envconf import (
    ConfigError,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_path,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent
load_dotenv(BASE_DIR / ".env", override=False)

DEBUG = env_bool("DEBUG", default=False)
# pytest (8.2+) sets PYTEST_VERSION; tests drive the app over plain HTTP on loopback.
TESTING = bool(os.environ.get("PYTEST_VERSION"))
DATA_DIR = env_path("AIOS_DATA_DIR", embedded.default_data_dir())
DATA_DIR.mkdir(parents=True, exist_ok=True)

_database_url = env_str("DATABASE_URL")
_redis_url = env_str("REDIS_URL")
# True when this process uses the embedded servers (demo passwords are printed only then).
EMBEDDED_SERVICES = not _database_url or not _redis_url


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key:
        return key
    if not DEBUG and not EMBEDDED_SERVICES:
        raise ConfigError("SECRET_KEY must be set when DEBUG is off and services are external")
    # Local/embedded runs: one random key per data folder, kept so sessions survive restarts.
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# --- services --------------------------------------------------------------------------

if not _database_url:
    _database_url = embedded.postgres_url(DATA_DIR)
if not _redis_url:
    _redis_url = embedded.redis_url(DATA_DIR)
REDIS_URL: str = _redis_url

DATABASES = {
    "default": dj_database_url.parse(
        _database_url, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True
    )
}
# A Unix-socket URL (`?host=/path`, as the embedded server gives) lands in OPTIONS; keep
# it in HOST where Django and anything deriving a URL from these settings expect it.
if not DATABASES["default"]["HOST"] and "host" in DATABASES["default"]["OPTIONS"]:
    DATABASES["default"]["HOST"] = DATABASES["default"]["OPTIONS"].pop("host")
DATABASES["default"]["TEST"] = {"NAME": env_str("AIOS_TEST_DB_NAME", "test_aios")}
# DB_POOL=<n>: a psycopg connection pool of at most n per process instead of persistent
# per-thread connections. The web process needs it: Django's ASGI handler runs each
# request's sync code on a fresh thread, so a per-thread connection is a new PostgreSQL
# backend per request (several ms, and cold catalog caches). `aios_app.serve` sets it.
DB_POOL = env_int("DB_POOL", 0)
if DB_POOL < 0:
    raise ConfigError("DB_POOL must be 0 (off) or a pool size")
if DB_POOL:
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # required with a pool: close = give back
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": min(2, DB_POOL),
        "max_size": DB_POOL,
        "timeout": 10,  # waiting longer for a free connection is an error, not a hang
    }

# --- apps ------------------------------------------------------------------------------

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",  # OpClass in index expressions (knowledge HNSW indexes)
    "channels",
    "django_htmx",
    "template_partials",
    "aios_app",
    "workflows.llm",
    "workflows.knowledge",
    "workflows.connectors",
    "workflows",
    "reviews",
]

MIDDLEWARE = [
    "aios_app.middleware.ServerTimingMiddleware",  # outermost: times all the others
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "aios_app.urls"
ASGI_APPLICATION = "aios_app.asgi.application"
WSGI_APPLICATION = "aios_app.wsgi.application"

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
                "aios_app.context_processors.navigation",
            ],
        },
    }
]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not (DEBUG or TESTING)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING
WHITENOISE_AUTOREFRESH = DEBUG or TESTING
MEDIA_ROOT = DATA_DIR / "media"

# --- security: production defaults; AIOS_HTTPS=0 for plain-HTTP localhost (`make run`) ---

HTTPS = env_bool("AIOS_HTTPS", default=not DEBUG and not TESTING)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", default=False) else None
)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# --- Channels, Celery ------------------------------------------------------------------

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            # redis-py 8 reads with a 5 s socket timeout by default, the same as
            # channels-redis's blocking pop: an idle consumer's receive then dies with
            # TimeoutError and the socket silently stops delivering. Read longer.
            "hosts": [{"address": REDIS_URL + "/1", "socket_timeout": 30}],
            "prefix": env_str("AIOS_CHANNEL_PREFIX", "aios"),
        },
    }
}

CELERY_BROKER_URL = REDIS_URL + "/0"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Deliberately short: an unacknowledged message is re-delivered after this many seconds.
# Steps never use ETA/countdown (waits are database timestamps), so nothing legitimately
# stays unacknowledged longer than a step's lease; the StepRun lease makes a re-delivery
# of a still-running step a no-op.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 300),
}
CELERY_TASK_DEFAULT_QUEUE = env_str("AIOS_DEFAULT_QUEUE", "central")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = False

# --- AIOS ------------------------------------------------------------------------------

AIOS_DEMO_SINK_ENABLED = env_bool("AIOS_DEMO_SINK_ENABLED", default=EMBEDDED_SERVICES)
AIOS_DEMO_SINK_URL = env_str(
    "AIOS_DEMO_SINK_URL",
    f"http://127.0.0.1:{env_int('AIOS_PORT', 8000)}/connectors/demo-sink",
)
# Demo: a new sample item every this many seconds while beat runs (0 = off).
AIOS_DEMO_TRICKLE_SECONDS = env_float(
    "AIOS_DEMO_TRICKLE_SECONDS", 20.0 if EMBEDDED_SERVICES else 0.0
)
# Steps: a dispatched step whose message vanished (broker restart) is re-sent after this.
AIOS_REDISPATCH_SECONDS = env_float("AIOS_REDISPATCH_SECONDS", 30.0)
AIOS_CLAIM_SECONDS = env_int("AIOS_CLAIM_SECONDS", 600)
AIOS_STEP_LEASE_SECONDS = env_int("AIOS_STEP_LEASE_SECONDS", 120)
AIOS_SWEEP_SECONDS = env_float("AIOS_SWEEP_SECONDS", 5.0)
AIOS_READY_WORKER_TIMEOUT = env_float("AIOS_READY_WORKER_TIMEOUT", 1.5)

# Reviews (docs/reviews.md): idle gaps longer than this are not counted as review time.
AIOS_REVIEW_IDLE_SECONDS = env_int("AIOS_REVIEW_IDLE_SECONDS", 60)
AIOS_REVIEW_BULK_MIN_CONFIDENCE = env_float("AIOS_REVIEW_BULK_MIN_CONFIDENCE", 0.9)
AIOS_REVIEW_PAGE_SIZE = env_int("AIOS_REVIEW_PAGE_SIZE", 50)
AIOS_SLA_SWEEP_SECONDS = env_float("AIOS_SLA_SWEEP_SECONDS", 60.0)

# Model plane: provider settings (keys are read from the env var *named* here, never stored).
AIOS_LLM_PROVIDER = env_str("AIOS_LLM_PROVIDER", "offline")
AIOS_LLM_BASE_URL = env_str("AIOS_LLM_BASE_URL", "")
AIOS_LLM_API_KEY_ENV = env_str("AIOS_LLM_API_KEY_ENV", "OPENAI_API_KEY")
AIOS_LLM_MODEL = env_str("AIOS_LLM_MODEL", "")
AIOS_EMBEDDING_PROVIDER = env_str("AIOS_EMBEDDING_PROVIDER", "local")

# Knowledge plane (docs/knowledge.md). Local model names run in-process; any other model
# name goes to the OpenAI-compatible server at AIOS_EMBEDDING_BASE_URL.
AIOS_EMBEDDING_MODEL = env_str("AIOS_EMBEDDING_MODEL", "all-MiniLM-L6-v2")
AIOS_EMBEDDING_BASE_URL = env_str("AIOS_EMBEDDING_BASE_URL", "")
AIOS_EMBEDDING_API_KEY_ENV = env_str("AIOS_EMBEDDING_API_KEY_ENV", "OPENAI_API_KEY")
AIOS_EMBEDDING_DIMENSIONS = env_int("AIOS_EMBEDDING_DIMENSIONS", 0)  # 0: ask the server
AIOS_EMBEDDING_EXTRA_MODELS = env_list("AIOS_EMBEDDING_EXTRA_MODELS", [])
AIOS_EMBEDDING_BATCH_SIZE = env_int("AIOS_EMBEDDING_BATCH_SIZE", 64)
AIOS_EMBEDDING_TIMEOUT = env_float("AIOS_EMBEDDING_TIMEOUT", 30.0)
AIOS_KNOWLEDGE_MAX_UPLOAD_BYTES = env_int("AIOS_KNOWLEDGE_MAX_UPLOAD_BYTES", 10 * 1024 * 1024)
AIOS_KNOWLEDGE_CHUNK_CHARS = env_int("AIOS_KNOWLEDGE_CHUNK_CHARS", 1000)
AIOS_KNOWLEDGE_CHUNK_OVERLAP_CHARS = env_int("AIOS_KNOWLEDGE_CHUNK_OVERLAP_CHARS", 200)
AIOS_KNOWLEDGE_EF_SEARCH = env_int("AIOS_KNOWLEDGE_EF_SEARCH", 100)
# auto: on, except on the embedded server of a CPU without AVX-512 (docs/knowledge.md).
AIOS_KNOWLEDGE_HNSW = env_str("AIOS_KNOWLEDGE_HNSW", "auto")
AIOS_KNOWLEDGE_JOB_LEASE_SECONDS = env_int("AIOS_KNOWLEDGE_JOB_LEASE_SECONDS", 120)


def _env_json(name: str, default: object) -> object:
    raw = env_str(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be JSON: {exc}") from None


# Gateway (workflows/llm, docs/models.md). Prices per 1M tokens, per model name.
AIOS_MODEL_PRICES = _env_json("AIOS_MODEL_PRICES", {})
# Label → regex; matches are stored as [REDACTED:label] on routes/providers with redact_pii.
AIOS_REDACT_PATTERNS = _env_json(
    "AIOS_REDACT_PATTERNS",
    {
        "email": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
        "iban": r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b",
        "phone": r"(?<![\w+])\+?\d[\d ()./-]{7,}\d\b",
    },
)
AIOS_LLM_BREAKER_NAMESPACE = env_str("AIOS_LLM_BREAKER_NAMESPACE", "aios:llm")
AIOS_LLM_BACKOFF_S = env_float("AIOS_LLM_BACKOFF_S", 0.5)  # first retry; doubles, with jitter
AIOS_LLM_BACKOFF_MAX_S = env_float("AIOS_LLM_BACKOFF_MAX_S", 8.0)
# A Retry-After longer than this is not waited for in a worker: the fallback route is used.
AIOS_LLM_RETRY_AFTER_MAX_S = env_float("AIOS_LLM_RETRY_AFTER_MAX_S", 30.0)
AIOS_LLM_MAX_TOOL_ROUNDS = env_int("AIOS_LLM_MAX_TOOL_ROUNDS", 5)
# Seconds a worker keeps routes and latest prompt versions in memory (0: read every call).
AIOS_LLM_CONFIG_TTL_S = env_float("AIOS_LLM_CONFIG_TTL_S", 5.0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "pgserver": {"level": "WARNING"},  # chatty about every handle it opens
        "httpx2": {"level": "WARNING"},  # the openai client's transport logs every request
        "httpx": {"level": "WARNING"},
    },
}
