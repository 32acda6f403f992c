from django.apps import AppConfig


class TaxesConfig(AppConfig):
    name = "apps.taxes"
    label = "taxes"
