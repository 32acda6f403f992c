"""`python manage.py export_products PATH`: every live product's variants as
CSV (apps.catalog.csv_io describes the columns). PATH "-" is standard output."""

import sys

from django.core.management.base import BaseCommand

from apps.catalog.csv_io import export_products


class Command(BaseCommand):
    help = "Export products to CSV, one row per variant."

    def add_arguments(self, parser):
        parser.add_argument("path", help='Where to write the CSV ("-" for standard output).')

    def handle(self, *args, path: str, **options):
        if path == "-":
            export_products(file=sys.stdout)
            return
        with open(path, "w", newline="", encoding="utf-8") as file:
            count = export_products(file=file, progress=options["verbosity"] > 0)
        self.stdout.write(self.style.SUCCESS(f"Exported {count} rows to {path}."))
