"""What a server or worker refuses to start with. Not a Django system check:
these run where the process starts (asgi.py, celery), so `manage.py` commands
and tests still load settings that a server would refuse."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from apps.payments.checks import check_gateways


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


def refuse_broken_payment_gateways() -> None:
    """Stop a server whose PAYMENT_GATEWAYS names a gateway that does not load.

    Django's system checks say so for manage.py commands, but an ASGI server
    or a Celery worker does not run them; without this the first customer to
    ask for the gateways would meet the error.
    """
    problems = check_gateways(app_configs=None, databases=None)
    if problems:
        raise ImproperlyConfigured("; ".join(problem.msg for problem in problems))
