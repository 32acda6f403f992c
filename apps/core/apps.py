from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"

    def ready(self) -> None:
        # Each app's handlers.py registers its event handlers (apps.core.events).
        autodiscover_modules("handlers")
        from . import security_checks  # noqa: F401 - registers the deployment checks
