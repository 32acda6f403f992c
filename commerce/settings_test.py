"""Settings for the test suite: the real settings, with what keeps tests fast
and isolated. DATABASE_URL and REDIS_URL still choose the backends."""

from .settings import *  # noqa: F403
from .settings import CACHES, REDIS_URL

SECRET_KEY = "test-secret-key-not-for-production"
JWT_SIGNING_KEY = SECRET_KEY
# Hashing with PBKDF2 costs ~0.3 s a password; tests create hundreds.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = BASE_DIR / ".pytest_cache" / "media"  # noqa: F405
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    # On disk, as in production, to show it is not under MEDIA_ROOT.
    "private": {"BACKEND": "apps.privacy.storage.PrivateFileSystemStorage",
                "OPTIONS": {"location": str(BASE_DIR / ".pytest_cache" / "private")}},  # noqa: F405
}
if REDIS_URL:
    CACHES["default"]["KEY_PREFIX"] = "commerce-test"

# A replica alias that mirrors the primary, for tests/test_replicas.py to
# turn on (DATABASE_REPLICAS); off, nothing is routed to it.
DATABASES["replica_0"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}  # noqa: F405
DATABASE_REPLICAS: list[str] = []
