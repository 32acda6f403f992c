from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo shop behind `make run` and the benchmark. It spans accounts,
    catalog and inventory, so it is an app of its own above all three."""

    name = "apps.demo"
    label = "demo"
