from django.conf import settings
from django.contrib import admin
from django.urls import path, re_path
from django.views.static import serve

from apps.notifications.unsubscribe import UNSUBSCRIBE_PATH
from apps.privacy.links import EXPORT_PATH
from commerce.health import healthz
from commerce.privacy_exports import account_data_export_download
from commerce.unsubscribe import unsubscribe
from commerce.webhooks import stripe_webhook
from schema.views import GraphQLView

urlpatterns = [
    path("graphql/", GraphQLView.as_view()),
    path("healthz", healthz),
    path("admin/", admin.site.urls),
    path("webhooks/stripe/", stripe_webhook),
    path(f"{UNSUBSCRIBE_PATH}<str:token>/", unsubscribe),
    path(f"{EXPORT_PATH}<str:token>/", account_data_export_download),
]

if settings.METRICS_ENABLED:
    # For Prometheus, from the addresses or with the token the settings allow.
    from commerce.metrics import metrics_view

    urlpatterns.append(path("metrics", metrics_view))

if settings.DEBUG:
    # Production serves media from object storage or the front proxy.
    urlpatterns += [
        re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT})
    ]
