#!/usr/bin/env python
"""Cost as the catalog grows (`make bench BENCH_ARGS=--scale`; not run in CI).

For each catalog size (2,000, 20,000 and 200,000 products by default) a
PostgreSQL database of its own (`commerce_scale_2k`, `_20k`, `_200k`, or
SCALE_DATABASE_URL with `{label}` in it) is migrated and seeded with
`seed_demo` when it does not hold that many products (the seeding time is
reported). Then, in a process of its own with DEBUG off, the storefront's
documents run in-process through the real view (Django's test client, no
server, no load client) many times each; the median is reported, with the
SQL statements and the time PostgreSQL took for them:

- the first page, a full-text search, a filtered listing (a category with
  its descendants, a price range, in stock and an attribute), ordering by
  price and by rating, a page after the 500th product (reached by following
  endCursor, so it works with any kind of cursor), each with its totalCount;
- ProductDetail.

The table gives each at every size and the ratio of the largest to the
smallest; it is printed and written to bench/results/scale.md, and the
plans PostgreSQL chose at the largest size to bench/results/scale-plans.md.
The response cache, when the server has one, is off (GRAPHQL_RESPONSE_CACHE=0):
this measures what a miss costs.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"
OPERATIONS = ROOT.parent / "shared" / "operations" / "storefront" / "catalog.graphql"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/commerce_scale_{label}"
PAGE = 20
CAP = 10_000  # GRAPHQL_TOTAL_COUNT_CAP's default


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=lambda s: [int(n) for n in s.split(",")],
                        default=[2000, 20000, 200000], help="Comma-separated product counts.")
    parser.add_argument("--iterations", type=int, default=15,
                        help="Timed runs of each document (after 2 warm-up runs).")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reseed", action="store_true",
                        help="Drop and recreate each size's database first.")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def label(size: int) -> str:
    return f"{size // 1000}k" if size % 1000 == 0 else str(size)


def database_url(size: int) -> str:
    return os.environ.get("SCALE_DATABASE_URL", DEFAULT_URL).format(label=label(size))


def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.child is not None:
        return child(args)
    results = {}
    for size in args.sizes:
        print(f"--- {size:,} products ({database_url(size)})", flush=True)
        command = [sys.executable, __file__, "--child", str(size),
                   "--iterations", str(args.iterations), "--seed", str(args.seed)]
        if args.reseed:
            command.append("--reseed")
        output = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True).stdout
        results[size] = json.loads(output.strip().splitlines()[-1])
    report = render(results, args)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "scale.md").write_text(report)
    largest = results[max(results)]
    (RESULTS / "scale-plans.md").write_text(plans(largest, max(results)))
    print()
    print(report)
    print(f"Written to {RESULTS / 'scale.md'} and {RESULTS / 'scale-plans.md'}")


# --- One size, in its own process ---------------------------------------------------------


def child(args: argparse.Namespace) -> None:
    size = args.child
    from bench.run import ensure_database  # the one way the benchmarks make their databases

    url = database_url(size)
    ensure_database(url, recreate=args.reseed)
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "commerce.settings", "DATABASE_URL": url, "DEBUG": "0",
        "SECRET_KEY": "bench-only-secret-key-" + "x" * 40, "LOG_LEVEL": "WARNING",
        "GRAPHQL_COST_BUCKET_SIZE": "0", "GRAPHQL_RESPONSE_CACHE": "0",
        "ALLOWED_HOSTS": "testserver,localhost",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "MEDIA_ROOT": os.environ.get("MEDIA_ROOT", "/tmp/commerce-scale-media"),
    })
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    seed_seconds = prepare(size, args.seed)
    cases = build_cases()
    measured = {name: measure(document, variables, args.iterations)
                for name, (document, variables) in cases.items()}
    print(json.dumps({"seed_seconds": seed_seconds, "cases": measured}))


def prepare(size: int, seed: int) -> float | None:
    from django.core.management import call_command

    from apps.catalog.models import Product

    call_command("migrate", verbosity=0)
    existing = Product.objects.count()
    if existing == size:
        return None
    if existing:
        raise SystemExit(f"{database_url(size)} holds {existing} products, not {size}: "
                         "pass --reseed to start it over.")
    print(f"Seeding {size:,} products...", file=sys.stderr, flush=True)
    started = time.monotonic()
    call_command("seed_demo", products=size, seed=seed, verbosity=0)
    seconds = time.monotonic() - started
    print(f"Seeded in {seconds:.0f} s.", file=sys.stderr, flush=True)
    return seconds


def operation(name: str) -> str:
    sys.path.insert(0, str(ROOT / "bench"))
    from run import operation_text

    return operation_text(name, OPERATIONS)


def build_cases() -> dict[str, tuple[str, dict]]:
    from apps.catalog.models import Category, Product

    listing, detail = operation("ProductList"), operation("ProductDetail")
    fragrance = Category.objects.get(slug="fragrance")
    filters = {
        "categories": [gid("Category", fragrance.pk)],
        "price": {"gte": "20", "lte": "80"},
        "inStock": True,
        "attributes": [{"name": "Accords", "values": ["woody"]}],
    }
    cases = {
        "first page": (listing, {"first": PAGE}),
        "search \"vetiver\"": (listing, {"first": PAGE, "filters": {"search": "vetiver"}}),
        "filtered": (listing, {"first": PAGE, "filters": filters}),
        "by price": (listing, {"first": PAGE, "ordering": [{"price": "ASC"}]}),
        "by rating": (listing, {"first": PAGE, "ordering": [{"rating": "DESC"}]}),
        "after the 500th": (listing, {"first": PAGE, "after": cursor_after(listing, 500)}),
    }
    visible = Product.objects.visible_to_customers().order_by("name", "id")
    slug = visible.values_list("slug", flat=True)[visible.count() // 2]
    cases["ProductDetail"] = (detail, {"slug": slug})
    return cases


def gid(type_name: str, pk: int) -> str:
    from strawberry.relay import to_base64

    return to_base64(type_name, pk)


def cursor_after(listing: str, position: int) -> str:
    """The cursor of the `position`th product of the default order, reached
    the way a client would: page after page of 100."""
    seen, after = 0, None
    while True:
        data = post(listing, {"first": 100, "after": after})["products"]
        seen += len(data["edges"])
        if seen >= position or not data["pageInfo"]["hasNextPage"]:
            return data["edges"][position - (seen - len(data["edges"])) - 1]["cursor"]
        after = data["pageInfo"]["endCursor"]


_client = None


def post(document: str, variables: dict) -> dict:
    global _client
    from django.test import Client

    _client = _client or Client()
    response = _client.post("/graphql/", {"query": document, "variables": variables},
                            content_type="application/json")
    body = response.json()
    if response.status_code != 200 or body.get("errors"):
        raise SystemExit(f"{response.status_code}: {body}")
    return body["data"]


def measure(document: str, variables: dict, iterations: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(2):
        post(document, variables)
    times, sql_times = [], []
    for _ in range(iterations):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            data = post(document, variables)
            times.append((time.perf_counter() - started) * 1000)
        sql_times.append([float(q["time"]) * 1000 for q in captured.captured_queries])
    queries = [q["sql"] for q in captured.captured_queries]
    page = data.get("products") or {}
    return {
        "ms": statistics.median(times),
        "sql_ms": [statistics.median(column) for column in zip(*sql_times)],
        "queries": len(queries),
        "total_count": page.get("totalCount"),
        "exact": page.get("totalCountIsExact"),
        "plans": [explain(sql) for sql in queries],
        "sql": queries,
    }


def explain(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


# --- Report -------------------------------------------------------------------------------


def render(results: dict[int, dict], args: argparse.Namespace) -> str:
    sizes = sorted(results)
    small, large = sizes[0], sizes[-1]
    names = list(results[small]["cases"])
    head = " | ".join(f"{label(s)} ms" for s in sizes)
    lines = [
        f"# Cost as the catalog grows ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"In-process through the view, median of {args.iterations} runs, DEBUG off, "
        f"PostgreSQL, pages of {PAGE}; load average at the end "
        f"{os.getloadavg()[0]:.1f}. SQL: statements per request and PostgreSQL's time for "
        "each (the page, then the count).",
        "",
        f"| document | {head} | {label(large)} / {label(small)} | SQL at {label(large)} "
        f"| SQL ms at {label(small)} | SQL ms at {label(large)} | totalCount at "
        f"{label(large)} |",
        "|---|" + "---:|" * (len(sizes) + 5),
    ]
    for name in names:
        cells = [results[s]["cases"][name] for s in sizes]
        ratio = cells[-1]["ms"] / cells[0]["ms"]
        count = cells[-1]["total_count"]
        count_text = "—" if count is None else (
            f"{count:,}" + (" (capped)" if count > CAP else ""))
        lines.append(
            f"| {name} | " + " | ".join(f"{c['ms']:.1f}" for c in cells)
            + f" | {ratio:.2f}× | {cells[-1]['queries']} | "
            + " + ".join(f"{t:.1f}" for t in cells[0]["sql_ms"]) + " | "
            + " + ".join(f"{t:.1f}" for t in cells[-1]["sql_ms"]) + f" | {count_text} |")
    seeded = [f"{label(s)}: {results[s]['seed_seconds']:.0f} s" for s in sizes
              if results[s]["seed_seconds"] is not None]
    if seeded:
        lines += ["", "Seeded this run (seed_demo, orders included): " + ", ".join(seeded) + "."]
    return "\n".join(lines) + "\n"


def plans(result: dict, size: int) -> str:
    out = [f"# Plans at {size:,} products", ""]
    for name, case in result["cases"].items():
        out.append(f"## {name}")
        for sql, plan in zip(case["sql"], case["plans"], strict=True):
            out += ["", "```sql", sql, "```", "", "```", plan, "```"]
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    main()
