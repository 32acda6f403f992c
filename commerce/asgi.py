"""ASGI entry point: HTTP through Django (so middleware applies), WebSocket
to Strawberry's Channels consumer on the same /graphql/ path."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commerce.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import re_path  # noqa: E402

from commerce import error_reports, telemetry  # noqa: E402
from commerce.startup import (  # noqa: E402
    refuse_broken_payment_gateways,
    refuse_development_secret_key,
)

# Traces (when OTEL_EXPORTER_OTLP_ENDPOINT is set), before anything connects:
# a PostgreSQL connection is traced when it is made.
tracer_provider = telemetry.setup("commerce-web")

from schema.views import GraphQLWebSocketConsumer  # noqa: E402

refuse_development_secret_key()
refuse_broken_payment_gateways()

application = telemetry.traced_asgi(ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": URLRouter(
            [re_path(r"^graphql/?$", GraphQLWebSocketConsumer.as_asgi())]
        ),
    }
), tracer_provider)
# After the schema is built: see commerce.error_reports.
error_reports.setup()

# Everything loaded so far (Django, the schema, the app's modules) lives as
# long as the process: moved out of the collector's sight, so that its full
# collections, which otherwise walk it all in the middle of a request, see
# only what requests allocate. gunicorn imports this in each worker.
gc.collect()
gc.freeze()
gc.set_threshold(*settings.GC_THRESHOLDS)
