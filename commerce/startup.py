"""What a server or worker refuses to start with. Not a Django system check:
these run where the process starts (asgi.py, celery), so `manage.py` commands
and tests still load settings that a server would refuse."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def refuse_development_secret_key() -> None:
    """Stop a server that would sign tokens with the key published in this repo.

    Called where a server or worker starts (asgi.py, celery), not on settings
    import, so management commands and tests can still load the settings.
    """
    if not settings.DEBUG and settings.SECRET_KEY == settings.DEV_SECRET_KEY:
        raise ImproperlyConfigured(
            "SECRET_KEY is the development key and DEBUG is off. Set SECRET_KEY "
            "(and keep DEBUG off) in production, or DEBUG=1 for local development."
        )
