import logging

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse

logger = logging.getLogger(__name__)


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_redis() -> None:
    cache.set("healthz", "ok", timeout=5)
    if cache.get("healthz") != "ok":
        raise RuntimeError("cache did not return what was stored")


async def healthz(request):
    """For orchestrators: 200 when the database (and Redis, if configured) answer."""
    checks = {"database": _check_database}
    if settings.REDIS_URL:
        checks["redis"] = _check_redis
    status, results = 200, {}
    for name, check in checks.items():
        try:
            await sync_to_async(check)()
            results[name] = "ok"
        except Exception:
            logger.exception("health check %s failed", name)
            results[name] = "unavailable"
            status = 503
    return JsonResponse({"status": "ok" if status == 200 else "unavailable", **results},
                        status=status)
