from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_staff_roles(**kwargs) -> None:
    from .roles import staff_roles_ensure

    staff_roles_ensure()


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"

    def ready(self) -> None:
        # After auth's own post_migrate handler has made the permissions (it
        # is connected first: django.contrib.auth comes earlier in INSTALLED_APPS).
        post_migrate.connect(_ensure_staff_roles, sender=self)
