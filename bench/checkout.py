#!/usr/bin/env python
"""The checkout benchmark (`make bench-checkout`; not run in CI).

Completed checkouts per second through the production server (gunicorn with
uvicorn workers, several processes, on PostgreSQL), with 1, 4 and 16
concurrent buyers, in two shapes:

- distinct: each buyer buys a variant of its own (plenty of stock), so
  buyers share nothing but the tables;
- hot: every buyer buys the same variant, which has `--hot-stock` units:
  they queue on its stock row, and once it is sold out the rest are refused
  with INSUFFICIENT_STOCK. By default the hot variant has half the units the
  distinct run of as many buyers sold, so that it sells out about halfway
  through the run and the last units are raced for: a run that never sold
  out would show nothing about overselling.

A buyer is a guest doing what the storefront does, over HTTP: CartCreate
(one line), CartShippingAddressUpdate, CartShippingMethodUpdate and
CheckoutComplete with the dummy gateway, the contract's own documents. Beside
the rate it prints what must be 0 whatever the load: units sold beyond the
stock (from the orders' lines, against the stock the run started with) and
deadlocks (PostgreSQL's own count for the database, pg_stat_database), and
how many requests failed otherwise (a 5xx or an unexpected error).

Environment: BENCH_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/commerce_bench), BENCH_REDIS_URL (default
redis://127.0.0.1:6379/4), as bench/run.py.
"""

import argparse
import asyncio
import json
import os
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import (  # noqa: E402 - after the path is set
    ensure_database,
    free_port,
    OPERATIONS,
    git_commit,
    operation_text,
    running_server,
    server_environment,
)

CART = OPERATIONS.parent / "cart.graphql"
RESULTS = ROOT / "bench" / "results"
ADDRESS = {
    "firstName": "Bench", "lastName": "Buyer", "streetAddress1": "1 Load Street",
    "city": "Springfield", "postalCode": "62701", "countryArea": "IL", "country": "US",
}


@dataclass
class Run:
    shape: str
    buyers: int
    stock: int  # units of each variant at the start
    seconds: float = 0.0
    completed: int = 0
    refused: int = 0
    failed: int = 0
    oversold: int = 0
    deadlocks: int = 0
    latencies: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.completed / self.seconds if self.seconds else 0.0

    @property
    def p50_ms(self) -> float:
        ordered = sorted(self.latencies) or [0.0]
        return ordered[len(ordered) // 2] * 1000


def main() -> None:
    args = parse_args()
    database_url = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/commerce_bench"
    )
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/4")
    ensure_database(database_url, recreate=False)
    env = server_environment(database_url, redis_url)
    os.environ.update(env)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    documents = operations()
    shipping_country_ready()
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    runs: list[Run] = []
    sold: dict[int, int] = {}  # buyers -> checkouts completed in the distinct run
    with running_server(port, args.workers, env):
        for shape in ("distinct", "hot"):
            for buyers in args.concurrency:
                stock = args.hot_stock or max(2 * buyers, sold.get(buyers, 0) // 2)
                variants = fresh_variants(shape=shape, buyers=buyers, hot_stock=stock)
                deadlocks_before = deadlock_count()
                run = Run(shape=shape, buyers=buyers, stock=variants[0][1])
                asyncio.run(drive(base_url, documents, run, variants, seconds=args.duration))
                run.deadlocks = deadlock_count(settled=True) - deadlocks_before
                run.oversold = oversold(variants)
                sold[buyers] = run.completed
                print(f"  {shape:<8} buyers={buyers:<3} {run.rate:7.1f} checkouts/s  "
                      f"p50 {run.p50_ms:7.1f} ms/checkout  completed {run.completed}  "
                      f"refused {run.refused}  failed {run.failed}  oversold {run.oversold}  "
                      f"deadlocks {run.deadlocks}", flush=True)
                runs.append(run)
    report = render(runs, args=args)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "checkout.md").write_text(report)
    print()
    print(report)
    print(f"Written to {RESULTS / 'checkout.md'}")
    if any(run.oversold or run.deadlocks for run in runs):
        raise SystemExit("Oversold units or deadlocks: see the table.")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=4, help="Server processes.")
    parser.add_argument("--concurrency", type=lambda s: [int(c) for c in s.split(",")],
                        default=[1, 4, 16], help="Concurrent buyers, comma-separated.")
    parser.add_argument("--duration", type=float, default=10, help="Seconds per run at most.")
    parser.add_argument("--hot-stock", type=int, default=0,
                        help="Units of the hot variant: a run ends early when they are sold "
                             "(default: half of what the distinct run sold).")
    return parser.parse_args()


def operations() -> dict[str, str]:
    """Each operation of cart.graphql with the fragments it uses, by name."""
    return {name: operation_text(name, CART) for name in (
        "CartCreate", "CartShippingAddressUpdate", "CartShippingMethodUpdate", "CheckoutComplete",
    )}


# --- Data ----------------------------------------------------------------------------------------


def shipping_country_ready() -> None:
    """A zone serving the buyers' country with one flat method."""
    from decimal import Decimal

    from apps.shipping import services
    from apps.shipping.models import ShippingMethod

    if ShippingMethod.objects.filter(zone__countries__country="US").exists():
        return
    zone = services.shipping_zone_create(actor=None, name="Bench US", countries=["US"])
    services.shipping_method_create(actor=None, zone=zone, name="Bench post",
                                    price=Decimal("4.99"))


def fresh_variants(*, shape: str, buyers: int, hot_stock: int) -> list[tuple[int, int]]:
    """New products for a run (so runs share no rows): one variant a buyer,
    or one hot variant for all. (variant id, units on hand) each."""
    from decimal import Decimal

    from apps.catalog import services

    stamp = f"{shape}-{buyers}-{time.time_ns()}"
    count = buyers if shape == "distinct" else 1
    stock = 1_000_000 if shape == "distinct" else hot_stock
    made = []
    for n in range(count):
        product = services.product_create(
            actor=None, name=f"Bench {stamp} {n}", is_published=True,
            variants=[{"sku": f"B-{stamp}-{n}", "price": Decimal("19.99"), "stock": stock}],
        )
        made.append((product.variants.get().pk, stock))
    return made


def oversold(variants: list[tuple[int, int]]) -> int:
    from django.db.models import Sum

    from apps.orders.models import OrderLine

    total = 0
    for variant_id, stock in variants:
        sold = OrderLine.objects.filter(variant_id=variant_id).aggregate(n=Sum("quantity"))["n"]
        total += max(0, (sold or 0) - stock)
    return total


def deadlock_count(*, settled: bool = False) -> int:
    """PostgreSQL's count of deadlocks in the database. A server's backend
    reports its own to the statistics at most once a second, when it is
    idle (its pooled connection stays open), so after a run `settled` waits
    for those reports rather than missing the last second's."""
    from django.db import connection

    if settled:
        time.sleep(2)
    with connection.cursor() as cursor:
        cursor.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        return int(cursor.fetchone()[0])


# --- Load ----------------------------------------------------------------------------------------


async def drive(base_url: str, documents: dict[str, str], run: Run,
                variants: list[tuple[int, int]], *, seconds: float) -> None:
    import httpx
    from strawberry.relay import to_base64

    ids = [to_base64("ProductVariant", pk) for pk, _ in variants]
    started = time.perf_counter()
    deadline = started + seconds
    sold_out = asyncio.Event()
    last_success = started

    async def call(client: httpx.AsyncClient, name: str, variables: dict) -> dict:
        body = json.dumps({"query": documents[name], "operationName": name,
                           "variables": variables})
        response = await client.post("/graphql/", content=body,
                                     headers={"Content-Type": "application/json"})
        answer = response.json() if response.status_code == 200 else {}
        if response.status_code != 200 or answer.get("errors"):
            raise Failure(f"{name}: {response.status_code} {str(answer)[:300]}")
        return answer["data"]

    async def buyer(client: httpx.AsyncClient, index: int) -> None:
        nonlocal last_success
        variant = ids[index % len(ids)]
        while time.perf_counter() < deadline and not sold_out.is_set():
            t0 = time.perf_counter()
            try:
                data = await call(client, "CartCreate", {"input": {
                    "email": f"buyer{index}@bench.example",
                    "lines": [{"variantId": variant, "quantity": 1}]}})
                payload = data["cartCreate"]
                if payload["errors"]:
                    if payload["errors"][0]["code"] == "INSUFFICIENT_STOCK":
                        run.refused += 1
                        sold_out.set()
                        break
                    raise Failure(f"CartCreate: {payload['errors']}")
                token = payload["cart"]["token"]
                data = await call(client, "CartShippingAddressUpdate",
                                  {"token": token, "address": ADDRESS})
                method = data["cartShippingAddressUpdate"]["cart"]["availableShippingMethods"][0]
                await call(client, "CartShippingMethodUpdate",
                           {"token": token, "shippingMethodId": method["id"]})
                data = await call(client, "CheckoutComplete", {
                    "token": token, "payment": {"gateway": "dummy", "token": "success"}})
                payload = data["checkoutComplete"]
                codes = [error["code"] for error in payload["errors"]]
                if codes == ["INSUFFICIENT_STOCK"]:
                    run.refused += 1
                    sold_out.set()
                elif codes or not payload["order"]:
                    raise Failure(f"CheckoutComplete: {payload['errors']}")
                else:
                    run.completed += 1
                    run.latencies.append(time.perf_counter() - t0)
                    last_success = time.perf_counter()
            except (Failure, httpx.HTTPError) as failure:
                run.failed += 1
                if run.failed <= 3:
                    print(f"    failed: {failure}", flush=True)

    limits = httpx.Limits(max_connections=run.buyers, max_keepalive_connections=run.buyers)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as client:
        await asyncio.gather(*(buyer(client, i) for i in range(run.buyers)))
    # A hot run is timed until the last unit sold, not until the buyers noticed.
    run.seconds = (last_success if sold_out.is_set() else time.perf_counter()) - started


class Failure(Exception):
    pass


# --- Report --------------------------------------------------------------------------------------


def render(runs: list[Run], *, args) -> str:
    import platform

    from django.db import connection

    lines = [
        "# Checkout benchmark",
        "",
        f"- When: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {git_commit()}",
        f"- Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, PostgreSQL {connection.pg_version // 10000}; load average "
        f"{os.getloadavg()[0]:.1f} at the end",
        f"- Server: gunicorn + uvicorn_worker.UvicornWorker, {args.workers} processes, DEBUG off, "
        "Redis cache; guests paying with the dummy gateway",
        "- A checkout: CartCreate, CartShippingAddressUpdate, CartShippingMethodUpdate, "
        "CheckoutComplete (4 requests); each run "
        f"{args.duration:g} s at most; the hot variant has the units in the stock column, "
        "half of what the distinct run sold unless --hot-stock says otherwise",
        "",
        "| shape | buyers | stock | checkouts/s | p50 ms/checkout | completed "
        "| refused (sold out) | failed | oversold | deadlocks |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        lines.append(
            f"| {run.shape} | {run.buyers} | {run.stock} | {run.rate:.1f} | {run.p50_ms:.1f} "
            f"| {run.completed} | {run.refused} | {run.failed} | {run.oversold} "
            f"| {run.deadlocks} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
