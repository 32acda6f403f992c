"""`python manage.py import_products PATH [--dry-run] [--actor EMAIL]`: create
or update products and variants from CSV, all or nothing (apps.catalog.csv_io)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import User
from apps.catalog.csv_io import ProductImportError, import_products


class Command(BaseCommand):
    help = "Import products from CSV (one row per variant); nothing is written if a row is wrong."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--dry-run", action="store_true",
                            help="Check the file and count the changes, but write nothing.")
        parser.add_argument("--actor", metavar="EMAIL",
                            help="The staff user the stock movements are recorded for.")

    def handle(self, *args, path: str, dry_run: bool, actor: str | None, **options):
        user = None
        if actor:
            user = User.objects.filter(email__iexact=actor).first()
            if user is None:
                raise CommandError(f"No user {actor!r}.")
        try:
            # utf-8-sig: spreadsheets often start a CSV with a byte-order mark.
            with open(path, newline="", encoding="utf-8-sig") as file:
                result = import_products(actor=user, file=file, dry_run=dry_run,
                                         source=Path(path).name,
                                         progress=options["verbosity"] > 0)
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}.") from error
        except UnicodeDecodeError as error:
            raise CommandError(f"{path} is not UTF-8 text.") from error
        except ProductImportError as error:
            for problem in error.row_errors:
                self.stderr.write(str(problem))
            raise CommandError(
                f"{len(error.row_errors)} problem(s) found; nothing was imported."
            ) from error
        verb = "Would import" if dry_run else "Imported"
        self.stdout.write(self.style.SUCCESS(
            f"{verb} {result.rows} rows: {result.products_created} products created, "
            f"{result.products_updated} updated; {result.variants_created} variants created, "
            f"{result.variants_updated} updated; {result.stock_movements} stock changes."
            + (" (dry run: nothing written)" if dry_run else "")
        ))
