"""The Celery app. Without REDIS_URL tasks run eagerly in-process (see settings)."""

import os

from celery import Celery
from celery.signals import beat_init, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commerce.settings")

app = Celery("commerce")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@beat_init.connect
def _refuse_to_start(**kwargs) -> None:
    # A worker signs email links with SECRET_KEY: the web server's rule holds.
    # Celery logs and swallows exceptions from signal handlers; SystemExit stops.
    from django.core.exceptions import ImproperlyConfigured

    from commerce.startup import refuse_broken_payment_gateways, refuse_development_secret_key

    try:
        refuse_development_secret_key()
        # A worker will refund and cancel through the gateways.
        refuse_broken_payment_gateways()
    except ImproperlyConfigured as error:
        raise SystemExit(str(error)) from error
