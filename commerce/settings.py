"""Settings, read from the environment.

With no environment at all the project runs on SQLite, the local-memory
cache, the in-memory channel layer, eager Celery and console email, but with
DEBUG off; `make run` turns DEBUG on. Setting DATABASE_URL and REDIS_URL
switches on PostgreSQL and Redis (cache, Celery broker and results, channel
layer). The README lists every variable.
"""

import json
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


# The key `make run` uses when none is given. commerce.startup refuses to serve
# with it unless DEBUG is on, so a production deploy cannot forget SECRET_KEY.
DEV_SECRET_KEY = "django-insecure-development-key-do-not-use-in-production"
SECRET_KEY = env("SECRET_KEY", DEV_SECRET_KEY)
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "corsheaders",
    "channels",
    "strawberry_django",
    "treebeard",
    "apps.core",
    "apps.accounts",
    "apps.catalog",
    "apps.inventory",
    "apps.shipping",
    "apps.taxes",
    "apps.payments",
    "apps.wishlist",
    "apps.discounts",
    "apps.orders",
    "apps.reviews",
    "apps.checkout",
    "apps.webhooks",
    "apps.notifications",
    "apps.privacy",
    "apps.demo",
]

MIDDLEWARE = [
    "commerce.middleware.RequestLogMiddleware",  # the request id, one log line
    "commerce.middleware.RequestBodyLimitMiddleware",
    "commerce.middleware.SecurityMiddleware",  # Django's, with no thread hop
    "corsheaders.middleware.CorsMiddleware",  # async: no thread hop
    "commerce.middleware.GroupedMiddleware",  # GROUPED_MIDDLEWARE, in two hops
]
# Django's sync middleware, run by GroupedMiddleware in one thread hop per
# direction instead of one per middleware and direction (README "Benchmark").
GROUPED_MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
# The admin looks for auth, messages and sessions in MIDDLEWARE itself; they
# are in GROUPED_MIDDLEWARE (tests/test_middleware.py holds the admin to it).
# Django's deployment checks look there for its security, clickjacking and
# CSRF middleware too: apps.core.security_checks runs them, and those that
# hang on them, with the stack as it is.
SILENCED_SYSTEM_CHECKS = ["admin.E408", "admin.E409", "admin.E410",
                          "security.W001", "security.W002", "security.W003"]

ROOT_URLCONF = "commerce.urls"
ASGI_APPLICATION = "commerce.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

# --- Database -----------------------------------------------------------------
DATABASE_URL = env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")


def database(url: str) -> dict:
    config: dict = dict(dj_database_url.parse(url, conn_max_age=0))
    if config["ENGINE"] == "django.db.backends.postgresql":
        # psycopg 3's pool through Django (5.1+); CONN_MAX_AGE must stay 0 with it.
        config.setdefault("OPTIONS", {})["pool"] = {
            "min_size": env_int("DATABASE_POOL_MIN_SIZE", 1),
            "max_size": env_int("DATABASE_POOL_MAX_SIZE", 10),
            "timeout": env_int("DATABASE_POOL_TIMEOUT", 10),
        }
    else:
        # Wait for a lock instead of failing at once when two requests write.
        config.setdefault("OPTIONS", {})["timeout"] = 20
    return config


DATABASES = {"default": database(DATABASE_URL)}
# Read replicas (README "Read replicas"): comma-separated URLs, the aliases
# replica_0, replica_1...; anonymous and customer catalog reads go to them.
DATABASE_REPLICAS = []
for _index, _url in enumerate(env_list("DATABASE_REPLICA_URLS")):
    DATABASES[f"replica_{_index}"] = database(_url)
    DATABASE_REPLICAS.append(f"replica_{_index}")
DATABASE_ROUTERS = ["apps.core.replicas.ReplicaRouter"]
# Seconds after a client's mutation during which its reads stay on the primary.
REPLICA_READ_YOUR_WRITES_SECONDS = env_int("REPLICA_READ_YOUR_WRITES_SECONDS", 5)
IS_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- Redis: cache, Celery, channel layer ------------------------------------------
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "apps.core.redis_cache.SharedPoolRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", "commerce"),
        }
    }
    # A subscriber waits for its messages in BZPOPMIN calls that Redis ends
    # after 5 s (channels_redis's brpop_timeout); redis-py 8 gives up on a
    # read after 5 s by default, and that error ends the WebSocket. Reads
    # wait longer than the blocking call, and still give up on a Redis gone.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 15}],
                       "prefix": env("CHANNELS_PREFIX", "asgi")},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

CELERY_BROKER_URL = env("CELERY_BROKER_URL", REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", REDIS_URL or "cache+memory://")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A task whose worker died in it (killed, out of memory) goes back to the
# queue rather than being acknowledged as failed; tasks are idempotent
# (once_per_event, the email log), so running it again is safe. With Redis
# an unacknowledged task is delivered again after the visibility timeout.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
}
# The worker logs through LOGGING below (JSON lines with request ids), not
# through a root handler of Celery's own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = env("TIME_ZONE", "UTC")
# An event still unsent this long after it was published (its handler failed,
# e.g. the broker was down) is dispatched again; sent ones are kept a while.
EVENTS_RETRY_AFTER = timedelta(seconds=env_int("EVENTS_RETRY_AFTER", 60))
EVENTS_KEEP_SENT = timedelta(days=env_int("EVENTS_KEEP_SENT_DAYS", 7))
CELERY_BEAT_SCHEDULE: dict = {
    "delete-expired-refresh-tokens": {
        "task": "apps.accounts.tasks.delete_expired_refresh_tokens",
        "schedule": timedelta(hours=24),
    },
    "dispatch-pending-events": {
        "task": "apps.core.tasks.dispatch_pending_events",
        "schedule": EVENTS_RETRY_AFTER,
    },
    "delete-sent-events": {
        "task": "apps.core.tasks.delete_sent_events",
        "schedule": timedelta(hours=24),
    },
}

# Outgoing webhooks (README, "Outgoing webhooks"): a delivery that fails is
# tried again after WEBHOOKS_RETRY_BASE, doubling each time, for
# WEBHOOKS_RETRY_FOR; each attempt waits WEBHOOKS_TIMEOUT seconds at most
# to connect and for each read. Private, loopback and link-local addresses
# (and this server's own names) are refused unless allowed, for development.
WEBHOOKS_ALLOW_PRIVATE_URLS = env_bool("WEBHOOKS_ALLOW_PRIVATE_URLS", False)
WEBHOOKS_TIMEOUT = env_int("WEBHOOKS_TIMEOUT", 10)
WEBHOOKS_RETRY_BASE = timedelta(seconds=env_int("WEBHOOKS_RETRY_BASE", 30))
WEBHOOKS_RETRY_FOR = timedelta(seconds=env_int("WEBHOOKS_RETRY_FOR", 24 * 60 * 60))
CELERY_BEAT_SCHEDULE["retry-due-webhooks"] = {
    "task": "apps.webhooks.tasks.retry_due_webhooks",
    "schedule": WEBHOOKS_RETRY_BASE,
}

# --- Passwords, i18n, files ------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = env("MEDIA_URL", "/media/")
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "media")))
# Files no URL serves (account data exports, README "Privacy"): outside
# MEDIA_ROOT, read only by the view that checks a signed link. With object
# storage this alias would name a private bucket.
PRIVATE_STORAGE_ROOT = Path(env("PRIVATE_STORAGE_ROOT", str(BASE_DIR / "private")))
def _storage(prefix: str, backend: str, options: dict) -> dict:
    """A storage from the environment: `<prefix>_BACKEND` (a dotted path, such
    as django-storages' "storages.backends.s3.S3Storage") and
    `<prefix>_OPTIONS` (JSON), so that several machines share one bucket
    (README "Scaling out")."""
    configured = env(f"{prefix}_BACKEND")
    if not configured:
        return {"BACKEND": backend, **({"OPTIONS": options} if options else {})}
    try:
        given = json.loads(env(f"{prefix}_OPTIONS", "{}"))
    except ValueError as error:
        raise ImproperlyConfigured(f"{prefix}_OPTIONS must be a JSON object.") from error
    if not isinstance(given, dict):
        raise ImproperlyConfigured(f"{prefix}_OPTIONS must be a JSON object.")
    return {"BACKEND": configured, "OPTIONS": given}


STORAGES = {
    "default": _storage("MEDIA_STORAGE", "django.core.files.storage.FileSystemStorage", {}),
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "private": _storage("PRIVATE_STORAGE", "apps.privacy.storage.PrivateFileSystemStorage",
                        {"location": str(PRIVATE_STORAGE_ROOT)}),
}

# --- HTTP and CORS ----------------------------------------------------------------
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")
CORS_ALLOW_HEADERS = (
    "accept",
    "authorization",
    "content-type",
    "apollographql-client-name",
    "apollographql-client-version",
    "apollo-require-preflight",
    "x-apollo-operation-name",
    "x-graphql-cost",
)
# A throttled browser client reads how long to wait.
CORS_EXPOSE_HEADERS = ("retry-after",)
# Behind a TLS-terminating proxy: redirect plain HTTP (not the health check,
# which orchestrators call inside the network) and send HSTS once every host
# serves HTTPS. Both are the operator's decision, so off by default.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)

# A GraphQL JSON body larger than this is refused with 413 (API.md).
GRAPHQL_MAX_BODY_SIZE = env_int("GRAPHQL_MAX_BODY_SIZE", 1024 * 1024)
# Each uploaded file may be this large; multipart bodies are bounded by it too.
UPLOAD_MAX_SIZE = env_int("UPLOAD_MAX_SIZE", 10 * 1000 * 1000)
UPLOAD_MAX_FILES = env_int("UPLOAD_MAX_FILES", 10)
DATA_UPLOAD_MAX_MEMORY_SIZE = GRAPHQL_MAX_BODY_SIZE
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- Email --------------------------------------------------------------------------
EMAIL_HOST = env("EMAIL_HOST")
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "shop@localhost")
# Where links in emails point: the storefront's pages that take the token.
STOREFRONT_URL = env("STOREFRONT_URL", "http://localhost:3000")
# Where this server is reached from outside: the one-click unsubscribe links
# of emails point at it (README, "Notifications").
PUBLIC_URL = env("PUBLIC_URL", "http://localhost:8000")
# A customer hears of one wishlisted product at most once this often per
# kind of notice (back in stock, price drop).
NOTIFICATIONS_WISHLIST_INTERVAL = timedelta(
    hours=env_int("NOTIFICATIONS_WISHLIST_INTERVAL_HOURS", 24))
# An email the mail server refuses is tried again by Celery this many times,
# waiting up to NOTIFICATIONS_RETRY_BACKOFF seconds, then twice that, and so
# on (jittered, at most 10 minutes): about an hour in all by default.
NOTIFICATIONS_MAX_RETRIES = env_int("NOTIFICATIONS_MAX_RETRIES", 10)
NOTIFICATIONS_RETRY_BACKOFF = env_int("NOTIFICATIONS_RETRY_BACKOFF", 30)
# Guest carts nobody touched for this many days are deleted, daily
# (apps.checkout.tasks.delete_stale_guest_carts).
CART_ABANDON_AFTER_DAYS = env_int("CART_ABANDON_AFTER_DAYS", 30)
CELERY_BEAT_SCHEDULE["delete-stale-guest-carts"] = {
    "task": "apps.checkout.tasks.delete_stale_guest_carts",
    "schedule": timedelta(hours=24),
}

# --- GraphQL --------------------------------------------------------------------------
GRAPHQL_MAX_DEPTH = env_int("GRAPHQL_MAX_DEPTH", 15)
GRAPHQL_MAX_ALIASES = env_int("GRAPHQL_MAX_ALIASES", 30)
GRAPHQL_MAX_TOKENS = env_int("GRAPHQL_MAX_TOKENS", 5000)
# Fields and fragment spreads in an operation once its fragments are expanded.
GRAPHQL_MAX_SELECTIONS = env_int("GRAPHQL_MAX_SELECTIONS", 5000)
# What graphql-core's field-merging rule may spend on a document (its units,
# about 2 microseconds each), so a document of repeated fields is refused fast.
GRAPHQL_MAX_FIELD_COMPARISONS = env_int("GRAPHQL_MAX_FIELD_COMPARISONS", 10_000)
GRAPHQL_MAX_PAGE_SIZE = 100
# totalCount of the catalog's lists is exact up to this many and answers this + 1
# beyond it (with totalCountIsExact false): an exact count visits every match.
GRAPHQL_TOTAL_COUNT_CAP = env_int("GRAPHQL_TOTAL_COUNT_CAP", 10_000)
GRAPHQL_INTROSPECTION = env_bool("GRAPHQL_INTROSPECTION", DEBUG)
GRAPHQL_FIELD_SUGGESTIONS = env_bool("GRAPHQL_FIELD_SUGGESTIONS", DEBUG)
GRAPHQL_IDE = env_bool("GRAPHQL_IDE", True)
# Compiled plans (schema/compiled.py): selections of plain and direct fields
# answered by readers built once per operation; 0 executes every field
# through graphql-core (the tests compare the two).
GRAPHQL_COMPILED_PLANS = env_bool("GRAPHQL_COMPILED_PLANS", True)
# Query cost (README, "Query cost and limits"): an operation costing more than
# GRAPHQL_MAX_COST points is refused; each client (user, else address) has a
# bucket of GRAPHQL_COST_BUCKET_SIZE points refilled at GRAPHQL_COST_RESTORE_RATE
# points a second (a bucket size of 0 turns the budget off). X-Forwarded-For
# gives the client's address only when the peer is one of GRAPHQL_TRUSTED_PROXIES
# (addresses or CIDR networks, comma-separated).
GRAPHQL_MAX_COST = env_int("GRAPHQL_MAX_COST", 5000)
GRAPHQL_COST_BUCKET_SIZE = env_int("GRAPHQL_COST_BUCKET_SIZE", 10000)
GRAPHQL_COST_RESTORE_RATE = env_float("GRAPHQL_COST_RESTORE_RATE", 500.0)
GRAPHQL_TRUSTED_PROXIES = env_list("GRAPHQL_TRUSTED_PROXIES")
# Automatic Persisted Queries live in the cache this long.
GRAPHQL_APQ_TIMEOUT = env_int("GRAPHQL_APQ_TIMEOUT", 7 * 24 * 3600)
# The response cache of catalog reads (schema/response_cache.py, README
# "Response cache"): on unless 0. Its entries are made stale by the changes
# they show, never by time; the timeout only frees memory from entries
# nobody asks for. It needs a cache every process shares (REDIS_URL) as soon
# as more than one process serves or writes.
GRAPHQL_RESPONSE_CACHE = env_bool("GRAPHQL_RESPONSE_CACHE", True)
# The collector's thresholds in each web worker (commerce/asgi.py, after the
# heap is frozen), "young,middle,old". A page keeps a few thousand objects
# alive while it is built and frees nearly all of them by reference count,
# so at Python's 700 the young generation was collected about 3 times a
# ProductList request for nothing; at 5,000 it is once in 20 requests
# (`make profile PROFILE_ARGS="--mode gc"`: 0.40 -> 0.07 ms a request).
GC_THRESHOLDS = tuple(int(n) for n in env("GC_THRESHOLDS", "5000,10,10").split(","))
GRAPHQL_RESPONSE_CACHE_TIMEOUT = env_int("GRAPHQL_RESPONSE_CACHE_TIMEOUT", 24 * 3600)
# GET answers from the cache tell CDNs to revalidate every time; with a
# shared max age (seconds, 0 = off) a CDN may serve them that long without
# asking, and then while it revalidates: answers up to that stale.
GRAPHQL_HTTP_SHARED_MAX_AGE = env_int("GRAPHQL_HTTP_SHARED_MAX_AGE", 0)
GRAPHQL_HTTP_STALE_WHILE_REVALIDATE = env_int("GRAPHQL_HTTP_STALE_WHILE_REVALIDATE", 0)

STRAWBERRY_DJANGO = {
    "MAP_AUTO_ID_AS_GLOBAL_ID": True,
    "PAGINATION_MAX_LIMIT": GRAPHQL_MAX_PAGE_SIZE,
}

# --- Tokens and sign-in ------------------------------------------------------------------
JWT_SIGNING_KEY = env("JWT_SIGNING_KEY", SECRET_KEY)
JWT_ALGORITHM = "HS256"
JWT_ACCESS_TOKEN_LIFETIME = timedelta(seconds=env_int("JWT_ACCESS_TOKEN_LIFETIME", 300))
JWT_REFRESH_TOKEN_LIFETIME = timedelta(
    seconds=env_int("JWT_REFRESH_TOKEN_LIFETIME", 30 * 24 * 3600)
)
ACCOUNT_CONFIRMATION_MAX_AGE = env_int("ACCOUNT_CONFIRMATION_MAX_AGE", 3 * 24 * 3600)
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 3600)
# Reset emails to one address per hour; more requests are answered the same
# but send nothing.
PASSWORD_RESET_EMAIL_LIMIT = env_int("PASSWORD_RESET_EMAIL_LIMIT", 3)
# Failed sign-ins: this many for one email, or LOGIN_THROTTLE_IP_LIMIT for one
# client address, within LOGIN_THROTTLE_WINDOW seconds lock sign-in for the rest
# of the window.
LOGIN_THROTTLE_EMAIL_LIMIT = env_int("LOGIN_THROTTLE_EMAIL_LIMIT", 5)
LOGIN_THROTTLE_IP_LIMIT = env_int("LOGIN_THROTTLE_IP_LIMIT", 20)
LOGIN_THROTTLE_WINDOW = env_int("LOGIN_THROTTLE_WINDOW", 15 * 60)
# Sign-in attempts (the sign-in history) older than this are deleted, daily.
SIGN_IN_HISTORY_RETENTION_DAYS = env_int("SIGN_IN_HISTORY_RETENTION_DAYS", 180)
CELERY_BEAT_SCHEDULE["delete-old-sign-in-attempts"] = {
    "task": "apps.accounts.tasks.delete_old_sign_in_attempts",
    "schedule": timedelta(hours=24),
}
# Two-factor sign-in (README "Two-factor sign-in"): how long the challenge
# tokenAuth answers stays usable, and the issuer authenticator apps show.
TWO_FACTOR_CHALLENGE_MAX_AGE = env_int("TWO_FACTOR_CHALLENGE_MAX_AGE", 300)
TWO_FACTOR_ISSUER = env("TWO_FACTOR_ISSUER", "Commerce")
# The Django admin's login refuses staff without two-factor sign-in on.
ADMIN_TWO_FACTOR_REQUIRED = env_bool("ADMIN_TWO_FACTOR_REQUIRED", False)
# Card testing: this many declined checkoutComplete payments for one email, or
# CHECKOUT_DECLINE_LIMIT_IP from one client address, within
# CHECKOUT_DECLINE_WINDOW seconds refuse checkoutComplete (THROTTLED) for the
# rest of the window, without asking the gateway.
CHECKOUT_DECLINE_LIMIT_EMAIL = env_int("CHECKOUT_DECLINE_LIMIT_EMAIL", 5)
CHECKOUT_DECLINE_LIMIT_IP = env_int("CHECKOUT_DECLINE_LIMIT_IP", 10)
CHECKOUT_DECLINE_WINDOW = env_int("CHECKOUT_DECLINE_WINDOW", 60 * 60)

# Social sign-in (README, "Social sign-in"): each provider from the environment.
# Any OpenID Connect issuer by its discovery URL (OIDC_<NAME>_DISCOVERY_URL,
# _CLIENT_ID, _CLIENT_SECRET; the provider is called <name> in lower case),
# Google as a preset (GOOGLE_CLIENT_ID/_SECRET), and GitHub, plain OAuth 2.0
# (GITHUB_CLIENT_ID/_SECRET). The URLs may be overridden, for a stand-in.
def _social_auth_providers() -> dict[str, dict[str, str]]:
    providers: dict[str, dict[str, str]] = {}
    for name in sorted(os.environ):
        if name.startswith("OIDC_") and name.endswith("_DISCOVERY_URL") and env(name):
            prefix = name.removesuffix("DISCOVERY_URL")
            providers[prefix[5:-1].lower()] = {
                "kind": "oidc", "discovery_url": env(name),
                "client_id": env(f"{prefix}CLIENT_ID"),
                "client_secret": env(f"{prefix}CLIENT_SECRET"),
                "scope": env(f"{prefix}SCOPE", "openid email profile"),
            }
    if env("GOOGLE_CLIENT_ID"):
        providers["google"] = {
            "kind": "oidc",
            "discovery_url": env(
                "GOOGLE_DISCOVERY_URL", "https://accounts.google.com/.well-known/openid-configuration"
            ),
            "client_id": env("GOOGLE_CLIENT_ID"),
            "client_secret": env("GOOGLE_CLIENT_SECRET"),
            "scope": "openid email profile",
        }
    if env("GITHUB_CLIENT_ID"):
        providers["github"] = {
            "kind": "github",
            "authorize_url": env("GITHUB_AUTHORIZE_URL", "https://github.com/login/oauth/authorize"),
            "token_url": env("GITHUB_TOKEN_URL", "https://github.com/login/oauth/access_token"),
            "api_url": env("GITHUB_API_URL", "https://api.github.com"),
            "client_id": env("GITHUB_CLIENT_ID"),
            "client_secret": env("GITHUB_CLIENT_SECRET"),
            "scope": "read:user user:email",
        }
    return providers


SOCIAL_AUTH_PROVIDERS = _social_auth_providers()
# The only redirect URIs a sign-in may come back to (the storefront's callback
# pages), exactly as registered with the providers.
SOCIAL_AUTH_REDIRECT_URIS = env_list("SOCIAL_AUTH_REDIRECT_URIS")
# Seconds a started sign-in (its state, nonce and PKCE verifier) waits for
# its code; seconds a provider's discovery document and keys are kept; seconds
# any call to a provider may take.
SOCIAL_AUTH_STATE_TIMEOUT = env_int("SOCIAL_AUTH_STATE_TIMEOUT", 10 * 60)
SOCIAL_AUTH_METADATA_TIMEOUT = env_int("SOCIAL_AUTH_METADATA_TIMEOUT", 60 * 60)
SOCIAL_AUTH_HTTP_TIMEOUT = env_float("SOCIAL_AUTH_HTTP_TIMEOUT", 5.0)

# --- Shop ---------------------------------------------------------------------------------
DEFAULT_CURRENCY = env("DEFAULT_CURRENCY", "USD")
# Where tax is computed for before a customer gives an address (ISO 3166-1
# alpha-2): the shop's home country.
DEFAULT_COUNTRY = env("DEFAULT_COUNTRY", "US").upper()
# The gateways customers may pay with, in the order the storefront shows them:
# names of modules in apps/payments/gateways or dotted paths of gateway
# classes (README, "Payments"). `dummy` takes the token "success" as payment:
# leave it out where real money is taken.
PAYMENT_GATEWAYS = env_list("PAYMENT_GATEWAYS", "dummy")
# Stripe (README, "Stripe"), enabled by listing it: PAYMENT_GATEWAYS=dummy,stripe.
# The secret key calls the API, the publishable key goes to the storefront
# (paymentGateways), the webhook secret (whsec_...) verifies POST
# /webhooks/stripe/. STRIPE_API_BASE points the server at a stand-in (the
# tests' fake, stripe-mock). A call waits STRIPE_TIMEOUT seconds and is
# retried STRIPE_MAX_NETWORK_RETRIES times with its idempotency key; a
# webhook signed more than STRIPE_WEBHOOK_TOLERANCE seconds ago is refused;
# a payment still pending STRIPE_RECONCILE_AFTER seconds after it was made
# is asked about (the reconciliation task, every STRIPE_RECONCILE_EVERY).
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET")
STRIPE_API_BASE = env("STRIPE_API_BASE", "https://api.stripe.com")
STRIPE_TIMEOUT = env_float("STRIPE_TIMEOUT", 10.0)
STRIPE_MAX_NETWORK_RETRIES = env_int("STRIPE_MAX_NETWORK_RETRIES", 2)
STRIPE_WEBHOOK_TOLERANCE = env_int("STRIPE_WEBHOOK_TOLERANCE", 300)
STRIPE_RECONCILE_AFTER = timedelta(seconds=env_int("STRIPE_RECONCILE_AFTER", 5 * 60))
STRIPE_RECONCILE_EVERY = timedelta(seconds=env_int("STRIPE_RECONCILE_EVERY", 5 * 60))
CELERY_BEAT_SCHEDULE["reconcile-stripe-payments"] = {
    "task": "apps.orders.tasks.reconcile_stripe_payments",
    "schedule": STRIPE_RECONCILE_EVERY,
}
# A refund attempt whose answer was lost (REQUESTED STRIPE_RECONCILE_AFTER
# after it was asked) is settled on the same beat (README, "Stripe").
CELERY_BEAT_SCHEDULE["settle-refund-attempts"] = {
    "task": "apps.orders.tasks.settle_refund_attempts",
    "schedule": STRIPE_RECONCILE_EVERY,
}

# An order still unpaid ORDER_UNPAID_EXPIRY seconds after it was placed is
# cancelled (its stock and coupon use given back, its PaymentIntent
# cancelled) by beat, every ORDER_EXPIRY_EVERY seconds (README, "Orders").
ORDER_UNPAID_EXPIRY = timedelta(seconds=env_int("ORDER_UNPAID_EXPIRY", 30 * 60))
ORDER_EXPIRY_EVERY = timedelta(seconds=env_int("ORDER_EXPIRY_EVERY", 60))
CELERY_BEAT_SCHEDULE["expire-unpaid-orders"] = {
    "task": "apps.orders.tasks.expire_unpaid_orders",
    "schedule": ORDER_EXPIRY_EVERY,
}

# Privacy (README, "Privacy: data export and account deletion"): an export's
# emailed link works this many seconds, then beat deletes the file; a
# deletion token this many; orders no longer linked to a person keep their
# address snapshot this many days (the books), then beat blanks it.
ACCOUNT_EXPORT_LINK_MAX_AGE = env_int("ACCOUNT_EXPORT_LINK_MAX_AGE", 2 * 24 * 3600)
ACCOUNT_DELETE_TOKEN_MAX_AGE = env_int("ACCOUNT_DELETE_TOKEN_MAX_AGE", 3600)
ORDER_RECORDS_RETENTION_DAYS = env_int("ORDER_RECORDS_RETENTION_DAYS", 10 * 365)
CELERY_BEAT_SCHEDULE["delete-expired-account-exports"] = {
    "task": "apps.privacy.tasks.delete_expired_exports",
    "schedule": timedelta(hours=1),
}
CELERY_BEAT_SCHEDULE["anonymise-old-order-records"] = {
    "task": "apps.privacy.tasks.anonymise_old_order_records",
    "schedule": timedelta(hours=24),
}

# Order numbers are the order's id plus this, so the first is "1001": short
# enough to read over the phone, and unique because ids are.
ORDER_NUMBER_OFFSET = env_int("ORDER_NUMBER_OFFSET", 1000)

# Traces (README "Traces and error reports"): OpenTelemetry over OTLP/HTTP
# when the endpoint is set (the exporter reads the OTEL_* variables itself);
# error reports to Sentry when SENTRY_DSN is. Unset, neither is loaded.
TRACING = bool(env("OTEL_EXPORTER_OTLP_ENDPOINT"))
SENTRY_DSN = env("SENTRY_DSN")
SENTRY_ENVIRONMENT = env("SENTRY_ENVIRONMENT", "production")
SENTRY_RELEASE = env("SENTRY_RELEASE")
# Prometheus metrics (README "Metrics"): off unless METRICS_ENABLED, then
# served at /metrics to METRICS_ALLOWED_ADDRESSES (addresses or CIDR
# networks) or to a bearer token equal to METRICS_BEARER_TOKEN. At most
# METRICS_MAX_OPERATIONS operation names per process are labels; later
# ones are counted as "other".
METRICS_ENABLED = env_bool("METRICS_ENABLED")
METRICS_ALLOWED_ADDRESSES = env_list("METRICS_ALLOWED_ADDRESSES", "127.0.0.1,::1")
METRICS_BEARER_TOKEN = env("METRICS_BEARER_TOKEN")
METRICS_MAX_OPERATIONS = env_int("METRICS_MAX_OPERATIONS", 100)
# The Celery worker's own /metrics (its tasks), on this port; 0: none.
METRICS_WORKER_PORT = env_int("METRICS_WORKER_PORT", 0)

# LOG_FORMAT: "json" (one JSON object a line, for a log pipeline; the
# default without DEBUG) or "plain" (readable lines; the default with DEBUG).
LOG_FORMAT = env("LOG_FORMAT", "plain" if DEBUG else "json")
if LOG_FORMAT not in ("json", "plain"):
    raise ImproperlyConfigured("LOG_FORMAT must be json or plain.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "apps.core.request_context.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT,
                             "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Strawberry logs every resolver error with its traceback; ours are
        # logged once, by schema.extensions, with the request that caused them.
        "strawberry.execution": {"level": "CRITICAL"},
    },
}
