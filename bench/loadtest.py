#!/usr/bin/env python
"""The load test (`make loadtest`; not run in CI).

1. Makes (or reuses) the load-test database, migrates it and seeds the demo
   catalog (2,000 products) when it is empty; gives a few "hot" variants
   little stock (--hot-stock units each, counted in through the inventory
   service at every run) so that checkouts race for their last units.
2. Starts the production server (`gunicorn -c gunicorn.conf.py`,
   WEB_CONCURRENCY uvicorn workers, DEBUG off, PostgreSQL, Redis, the
   response cache on as in production) and a real Celery worker
   (`celery -A commerce worker`), both on commerce.settings.
3. Runs Locust headless (.venv-load/bin/locust -f bench/locustfile.py) for
   --duration seconds with --users shoppers: browse and search 80 %, cart
   15 %, checkout 5 % (bench/locustfile.py).
4. Prints, and writes to bench/results/loadtest.md: each operation's
   requests, req/s, p50/p95/p99 and failures (Locust's CSV); checkouts
   completed and sold out; the oversold units, read from the database after
   the run (must be 0); and the Celery queue: tasks the worker received,
   still queued, and outbox events left unsent once it had drained.

Every process it starts is stopped, whatever happens. Environment:
LOADTEST_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/commerce_loadtest), LOADTEST_REDIS_URL
(default redis://127.0.0.1:6379/14).
"""

import argparse
import contextlib
import csv
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import (  # noqa: E402 - after the path is set
    OPERATIONS,
    ensure_database,
    free_port,
    git_commit,
    operation_text,
    server_environment,
    stop,
    wait_healthy,
)

RESULTS = ROOT / "bench" / "results"
LOCUST = ROOT / ".venv-load" / "bin" / "locust"
# (document, operations) the shoppers send.
DOCUMENTS = {
    "catalog.graphql": ("ProductList", "ProductDetail", "CategoryTree", "CategoryPage"),
    "cart.graphql": ("CartCreate", "CartLinesAdd", "CartLinesUpdate", "CartShippingAddressUpdate",
                     "CartShippingMethodUpdate", "CheckoutComplete"),
    "account.graphql": ("TokenAuth",),
}
HOT_VARIANTS = 3
SEARCH_WORDS = ["rose", "oud", "vanilla", "musk", "citrus", "amber", "cream", "serum", "noir"]
DRAIN_TIMEOUT = 60  # seconds for the worker to empty the queue after the run


def main() -> None:
    args = parse_args()
    database_url = os.environ.get(
        "LOADTEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/commerce_loadtest")
    redis_url = os.environ.get("LOADTEST_REDIS_URL", "redis://127.0.0.1:6379/14")
    ensure_database(database_url, recreate=args.reseed)
    env = {**server_environment(database_url, redis_url),
           "DJANGO_SETTINGS_MODULE": "commerce.settings",  # production's, not the bench URLs
           "CACHE_KEY_PREFIX": "commerce-loadtest",
           "GRAPHQL_RESPONSE_CACHE": "1",  # production's default
           "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
           "WEB_CONCURRENCY": str(args.workers)}
    os.environ.update(env)

    import django

    django.setup()
    prepare_data(args)
    with tempfile.TemporaryDirectory(prefix="loadtest-") as scratch:
        work = Path(scratch)
        (work / "data.json").write_text(json.dumps(shopper_data()))
        before = snapshot()
        port = free_port()
        with contextlib.ExitStack() as stack:
            worker_log = work / "worker.log"
            stack.enter_context(running(celery_command(), env, worker_log, "celery worker"))
            wait_for_text(worker_log, " ready.", timeout=120)
            stack.enter_context(running(gunicorn_command(port), env, work / "server.log",
                                        "gunicorn"))
            wait_healthy(f"http://127.0.0.1:{port}/healthz", server=_Alive())
            run_locust(args, base_url=f"http://127.0.0.1:{port}", work=work)
            queue = drain(before, worker_log)
        stats = read_stats(work / "locust_stats.csv")
        outcomes = json.loads((work / "outcomes.json").read_text()) \
            if (work / "outcomes.json").exists() else {}
    report = render(stats, outcomes=outcomes, database=after_run(before), queue=queue,
                    args=args)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "loadtest.md").write_text(report)
    print()
    print(report)
    print(f"Written to {RESULTS / 'loadtest.md'}")
    if "| oversold units | 0 |" not in report:
        raise SystemExit("Oversold units: see the table.")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20, help="Concurrent shoppers.")
    parser.add_argument("--spawn-rate", type=float, default=5, help="Shoppers started a second.")
    parser.add_argument("--duration", type=int, default=60, help="Seconds of load.")
    parser.add_argument("--workers", type=int, default=2, help="Server processes.")
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--hot-stock", type=int, default=3,
                        help="Units each hot variant has at the start of a run.")
    parser.add_argument("--reseed", action="store_true",
                        help="Drop and recreate the load-test database first.")
    return parser.parse_args()


# --- Documents and data ----------------------------------------------------------------------


def documents() -> dict[str, str]:
    """The shoppers' operations, each with the fragments it uses, by name."""
    return {name: operation_text(name, OPERATIONS.parent / file)
            for file, names in DOCUMENTS.items() for name in names}


def prepare_data(args: argparse.Namespace) -> None:
    from django.core.management import call_command

    from apps.catalog.models import Product
    from apps.demo.seed import seed_demo

    call_command("migrate", verbosity=0)
    if not Product.objects.exists():
        print(f"Seeding {args.products} products...", flush=True)
        seed_demo(products=args.products, seed=1, progress=True)
    restock_hot(args.hot_stock)


def hot_variants() -> list[Any]:
    from apps.catalog.models import ProductVariant

    return list(ProductVariant.objects.filter(product__in=_visible_products())
                .order_by("id")[:HOT_VARIANTS])


def _visible_products() -> Any:
    from apps.catalog.models import Product

    return Product.objects.visible_to_customers()


def restock_hot(units: int) -> None:
    """Each hot variant to `units` available, counted in or out by hand as a
    stock-take would be (the audit trail adds up)."""
    from django.db import transaction

    from apps.inventory import services
    from apps.inventory.models import Stock

    with transaction.atomic():
        for variant in hot_variants():
            stock = Stock.objects.get(variant=variant, warehouse=services.default_warehouse())
            delta = units - stock.quantity_available
            if delta:
                services.stock_adjust(actor=None, variant=variant, delta=delta,
                                      reason="Load test: hot variant restocked")


def shopper_data() -> dict[str, Any]:
    from strawberry.relay import to_base64

    from apps.accounts.models import User
    from apps.catalog.models import Category, ProductVariant
    from apps.demo.seed import CUSTOMER_PASSWORD

    hot = [v.pk for v in hot_variants()]
    plenty = (ProductVariant.objects.filter(product__in=_visible_products(),
                                            stocks__quantity_on_hand__gte=50)
              .exclude(pk__in=hot).order_by("id").values_list("pk", flat=True)[:300])
    return {
        "documents": documents(),
        "products": list(_visible_products().order_by("id").values_list("slug", flat=True)[:500]),
        "categories": list(Category.objects.values_list("slug", flat=True)),
        "words": SEARCH_WORDS,
        "variants": [to_base64("ProductVariant", pk) for pk in plenty],
        "hot": [to_base64("ProductVariant", pk) for pk in hot],
        "customers": list(User.objects.filter(is_staff=False).order_by("id")
                          .values_list("email", flat=True)[:200]),
        "password": CUSTOMER_PASSWORD,
    }


@dataclass
class Snapshot:
    """The database before the run: what later rows are new against."""

    last_order: int
    started: datetime  # outbox events are UUIDs: told apart by time
    available: dict[int, int] = field(default_factory=dict)  # variant id -> units


def snapshot() -> Snapshot:
    from django.db.models import F, Max, Sum
    from django.utils import timezone

    from apps.inventory.models import Stock
    from apps.orders.models import Order

    available = dict(Stock.objects.values("variant_id")
                     .annotate(n=Sum(F("quantity_on_hand") - F("quantity_allocated")))
                     .values_list("variant_id", "n"))
    return Snapshot(last_order=Order.objects.aggregate(n=Max("id"))["n"] or 0,
                    started=timezone.now(),
                    available=available)


def after_run(before: Snapshot) -> dict[str, int]:
    """Orders placed in the run, and units sold beyond what was available
    when it began (from the orders' lines), plus stock rows allocating more
    than they hold (the database's constraint forbids it: 0 twice over)."""
    from django.db.models import F, Sum

    from apps.inventory.models import Stock
    from apps.orders.models import Order, OrderLine

    sold = (OrderLine.objects.filter(order_id__gt=before.last_order)
            .values("variant_id").annotate(n=Sum("quantity")).values_list("variant_id", "n"))
    oversold = sum(max(0, n - before.available.get(variant_id, 0)) for variant_id, n in sold)
    overallocated = Stock.objects.filter(quantity_allocated__gt=F("quantity_on_hand")).count()
    return {"orders placed": Order.objects.filter(id__gt=before.last_order).count(),
            "oversold units": oversold + overallocated}


# --- Processes -------------------------------------------------------------------------------


class _Alive:
    """wait_healthy's server, for a process watched elsewhere."""

    returncode = None

    def poll(self) -> None:
        return None


def gunicorn_command(port: int) -> list[str]:
    return [str(Path(sys.executable).with_name("gunicorn")), "-c", "gunicorn.conf.py",
            "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
            "--graceful-timeout", "5", "commerce.asgi:application"]


def celery_command() -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "commerce", "worker", "--pool=solo",
            "--loglevel=INFO", "--hostname=loadtest@localhost", "--without-mingle",
            "--without-gossip", "--without-heartbeat"]


@contextlib.contextmanager
def running(command: list[str], env: dict[str, str], log: Path, label: str) -> Iterator[None]:
    print(f"Starting {label}: {' '.join(command)}", flush=True)
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env},
                                   stdout=out, stderr=subprocess.STDOUT)
    try:
        yield
    finally:
        stop(process)
        if process.returncode not in (0, -signal.SIGTERM):
            print(f"{label} exited with {process.returncode}; its log's end:\n"
                  + log.read_text(errors="replace")[-2000:], flush=True)


def wait_for_text(log: Path, text: str, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while text not in log.read_text(errors="replace"):
        if time.monotonic() > deadline:
            raise SystemExit(f"Not ready in {timeout} s:\n"
                             + log.read_text(errors="replace")[-2000:])
        time.sleep(0.2)


def run_locust(args: argparse.Namespace, *, base_url: str, work: Path) -> None:
    if not LOCUST.exists():
        raise SystemExit(f"{LOCUST} is missing: `make loadtest` makes .venv-load.")
    command = [str(LOCUST), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
               "--host", base_url, "-u", str(args.users), "-r", str(args.spawn_rate),
               "-t", f"{args.duration}s", "--stop-timeout", "10", "--csv", str(work / "locust"),
               "--only-summary", "--loglevel", "WARNING"]
    print(f"Running: {' '.join(command)}", flush=True)
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("DJANGO_", "PYTHONPATH"))}
    env.update(LOADTEST_DATA=str(work / "data.json"),
               LOADTEST_OUTCOMES=str(work / "outcomes.json"))
    # Locust exits 1 when a request failed: the table says which.
    done = subprocess.run(command, env=env, cwd=ROOT, timeout=args.duration + 120, check=False)
    if not (work / "locust_stats.csv").exists():
        raise SystemExit(f"Locust wrote no statistics (exit status {done.returncode}).")


def drain(before: Snapshot, worker_log: Path) -> dict[str, int]:
    """Waits for the worker to empty the queue; what it took and what is left."""
    import redis
    from django.conf import settings

    from apps.core.models import OutboxEvent

    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    deadline = time.monotonic() + DRAIN_TIMEOUT
    while True:
        log = worker_log.read_text(errors="replace")
        received = log.count("] received")
        finished = log.count("] succeeded in") + log.count("] raised unexpected")
        queued = int(broker.llen("celery"))
        unsent = OutboxEvent.objects.filter(created_at__gte=before.started,
                                             sent_at__isnull=True).count()
        if (not queued and finished >= received and not unsent) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    return {"events published": OutboxEvent.objects.filter(created_at__gte=before.started).count(),
            "events left unsent": unsent, "tasks received by the worker": received,
            "tasks finished": finished, "tasks left in the queue": queued}


# --- Report --------------------------------------------------------------------------------------


def read_stats(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def render(stats: list[dict[str, str]], *, outcomes: dict[str, int], database: dict[str, int],
           queue: dict[str, int], args: argparse.Namespace) -> str:
    def row(entry: dict[str, str], label: str) -> str:
        return (f"| {label} | {entry['Request Count']} | {float(entry['Requests/s']):.1f} "
                f"| {entry['50%']} | {entry['95%']} | {entry['99%']} | {entry['Failure Count']} |")

    lines = [
        "# Load test",
        "",
        f"- When: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {git_commit()}",
        f"- Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}; load average {os.getloadavg()[0]:.1f} at the end",
        f"- {args.users} shoppers (started {args.spawn_rate:g} a second) for {args.duration} s, "
        "0.5 to 2 s between tasks: browse and search 80 %, cart 15 %, checkout 5 %; "
        f"gunicorn -c gunicorn.conf.py with {args.workers} uvicorn workers, DEBUG off, "
        f"PostgreSQL, Redis, one Celery worker; {HOT_VARIANTS} hot variants with "
        f"{args.hot_stock} units each",
        "",
        "| operation | requests | req/s | p50 ms | p95 ms | p99 ms | failures |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    total = None
    for entry in stats:
        if entry["Name"] == "Aggregated":
            total = entry
        else:
            lines.append(row(entry, entry["Name"]))
    if total is not None:
        lines.append(row(total, "**all**"))
    lines += ["", "| outcome | count |", "|---|---:|"]
    figures = {"checkouts completed": outcomes.get("checkouts completed", 0),
               "sold out (INSUFFICIENT_STOCK)": outcomes.get("sold out", 0),
               **{f"sold out at {name.split(': ', 1)[1]}": count
                  for name, count in sorted(outcomes.items()) if name.startswith("sold out: ")},
               **database, **queue}
    lines += [f"| {name} | {value} |" for name, value in figures.items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
