"""`python manage.py seed_demo [--products N] [--orders N] [--seed S] [--if-empty]`:
the demo shop of apps.demo.seed, which says how it is built."""

import time

from django.core.management.base import BaseCommand, CommandError

from apps.demo import orders as demo_orders
from apps.demo import seed as demo
from apps.catalog.models import Product


class Command(BaseCommand):
    help = "Fill an empty catalog with demo data, the same for the same --seed."

    def add_arguments(self, parser):
        parser.add_argument("--products", type=int, default=demo.DEFAULT_PRODUCTS,
                            help=f"How many products (default {demo.DEFAULT_PRODUCTS}).")
        parser.add_argument("--orders", type=int, default=None,
                            help=f"How many past orders of the demo customers (default "
                                 f"{demo_orders.PER_CUSTOMER} per customer, at most "
                                 f"{demo_orders.DEFAULT_MAX_ORDERS}; 0 for none).")
        parser.add_argument("--seed", type=int, default=demo.DEFAULT_SEED,
                            help=f"The random seed (default {demo.DEFAULT_SEED}).")
        parser.add_argument("--if-empty", action="store_true",
                            help="Do nothing (and succeed) when the catalog has products.")

    def handle(self, *args, products: int, orders: int | None, seed: int, if_empty: bool,
               **options):
        if products < 0:
            raise CommandError("--products must be 0 or more.")
        if orders is not None and orders < 0:
            raise CommandError("--orders must be 0 or more.")
        existing = Product.objects.count()
        if existing:
            if if_empty:
                self.stdout.write(f"The catalog has {existing} products; not seeding.")
                return
            # Demo slugs and SKUs would clash with what is there, and a demo
            # mixed into a real catalog is never what anyone wants.
            raise CommandError(
                f"The catalog already has {existing} products. seed_demo fills an empty "
                "catalog; use --if-empty to skip quietly, or start from an empty database."
            )
        started = time.monotonic()
        result = demo.seed_demo(products=products, seed=seed, orders=orders,
                                progress=options["verbosity"] > 0)
        self.stdout.write(self.style.SUCCESS(
            f"Seeded {result.products} products ({result.variants} variants, "
            f"{result.media} images), {result.categories} categories, "
            f"{result.customers} customers, {result.reviews} reviews "
            f"({result.verified_reviews} verified), {result.orders} orders "
            f"in {time.monotonic() - started:.1f}s (seed {seed})."
        ))
        if result.orders_skipped and orders != 0:
            self.stdout.write(f"No demo orders: {result.orders_skipped}.")
        if result.customers:
            self.stdout.write(f"Demo customers sign in with the password "
                              f"{demo.CUSTOMER_PASSWORD!r}.")
        if result.admin_email:
            self.stdout.write(f"Staff superuser: {result.admin_email} / {result.admin_password}")
