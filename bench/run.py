#!/usr/bin/env python
"""The storefront benchmark (`make bench`; not run in CI).

1. Makes (or reuses) a PostgreSQL database, migrates it and seeds the demo
   catalog (2,000 products by default) when it is empty.
2. Counts the SQL queries of each storefront document, run once in-process
   through the real ASGI app under CaptureQueriesContext, and checks that the
   ceiling view answers ProductList with exactly the same JSON.
3. Starts the production server: gunicorn with uvicorn workers, DEBUG off,
   Redis as the cache, on a free port of 127.0.0.1, with bench.settings
   (the project's settings plus the ceiling view's URL), and the per-client
   query cost budget off (GRAPHQL_COST_BUCKET_SIZE=0): all its load comes
   from one address.
4. Drives ProductList (first: 100 and 20), ProductDetail and CategoryTree, and
   the ceiling for both ProductList sizes, at a few concurrencies, with wrk
   (installed with apt-get when missing and possible; otherwise an asyncio +
   httpx client), each run bounded in time and in requests.
5. Prints a table and writes it to bench/results/latest.md.

`--scale` runs bench/scale.py instead: the storefront's reads at 2,000,
20,000 and 200,000 products.

Environment: BENCH_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/commerce_bench), BENCH_REDIS_URL (default
redis://127.0.0.1:6379/4). `python bench/run.py --help` lists the knobs.
"""

import argparse
import asyncio
import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OPERATIONS = Path(os.environ.get(
    "BENCH_OPERATIONS", ROOT.parent / "shared" / "operations" / "storefront" / "catalog.graphql"
))
RESULTS = ROOT / "bench" / "results"
GRAPHQL_PATH = "/graphql/"
CEILING_PATH = "/bench/ceiling/products/"
LOAD_AT_START = os.getloadavg()


@dataclass
class Case:
    """One thing to load: a document (or the ceiling) with its variables."""

    label: str
    operation: str
    path: str
    bodies: list[bytes]
    queries: int | None = None

    @property
    def is_ceiling(self) -> bool:
        return self.path == CEILING_PATH


@dataclass
class Load:
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    failures: int
    cpu_seconds: float = 0.0  # the server's workers', user + system, over the run

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms(self) -> float:
        """The server's CPU time per request: what the app costs, whatever
        else the machine is doing (wall-clock figures are not)."""
        return self.cpu_seconds * 1000 / self.requests if self.requests else 0.0


def main() -> None:
    args = parse_args()
    database_url = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/commerce_bench"
    )
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/4")
    ensure_database(database_url, recreate=args.reseed)
    env = server_environment(database_url, redis_url)
    os.environ.update(env)

    import django

    django.setup()
    seed_seconds = prepare_data(args)
    cases = build_cases(args)
    count_queries(cases)
    client = pick_client(args.client)

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with running_server(port, args.workers, env) as server:
        for case in cases:
            check_over_http(base_url, case)
        rows = []
        ceilings: dict[tuple[str, int], Load] = {}
        # The ceiling of each size first, so that every GraphQL figure is
        # printed with its ratio to the ceiling's of the same run.
        for case in sorted(cases, key=lambda c: not c.is_ceiling):
            for concurrency in args.concurrency:
                run_load(client, base_url, case, concurrency, seconds=1, max_requests=200)
                cpu_before = server_cpu_seconds(server.pid)
                load = run_load(client, base_url, case, concurrency,
                                seconds=args.duration, max_requests=args.max_requests)
                load.cpu_seconds = server_cpu_seconds(server.pid) - cpu_before
                if case.is_ceiling:
                    ceilings[(case_size(case), concurrency)] = load
                print(progress_line(case, concurrency, load,
                                    ceilings.get((case_size(case), concurrency))), flush=True)
                rows.append((case, concurrency, load))
        rows.sort(key=lambda row: cases.index(row[0]))
    from bench import cached

    rows += cached.measure(args=args, env=env, client=client, ceilings=ceilings)
    report = render(rows, args=args, client=client, seed_seconds=seed_seconds) + cached.note()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.md").write_text(report)
    (RESULTS / "latest.json").write_text(json.dumps(figures(rows), indent=1) + "\n")
    print()
    print(report)
    print(f"Written to {RESULTS / 'latest.md'} and latest.json")


def case_size(case: Case) -> str:
    """What pairs a ProductList case with its ceiling: the page size."""
    return case.label.split()[-1]


def progress_line(case: Case, concurrency: int, load: Load, ceiling: Load | None) -> str:
    def ratio(value: float, of: float | None) -> str:
        return f" ({value / of:.0%})" if ceiling is not None and of else ""

    line = (f"  {case.label:<28} c={concurrency:<3} {load.rps:8.1f} req/s"
            f"{ratio(load.rps, ceiling and ceiling.rps)}  "
            f"cpu {load.cpu_ms:6.1f} ms/req{ratio(load.cpu_ms, ceiling and ceiling.cpu_ms)}  "
            f"p50 {load.p50_ms:7.1f}  p95 {load.p95_ms:7.1f}  p99 {load.p99_ms:7.1f} ms "
            f"(p99/p50 {load.p99_ms / load.p50_ms if load.p50_ms else 0:.2f})")
    if case.is_ceiling or ceiling is None:
        line = line.replace(" ()", "")
    return line + (f"  {load.failures} failed" if load.failures else "")


def figures(rows) -> list[dict]:
    """Every measured figure, for comparing runs by machine."""
    return [{"case": case.label, "concurrency": concurrency, "req_s": round(load.rps, 1),
             "cpu_ms_per_request": round(load.cpu_ms, 2), "p50_ms": load.p50_ms,
             "p95_ms": load.p95_ms, "p99_ms": load.p99_ms, "requests": load.requests,
             "failures": load.failures, "sql_per_request": case.queries}
            for case, concurrency, load in rows]


def server_cpu_seconds(master_pid: int) -> float:
    """User + system CPU seconds so far of the server's processes (the
    gunicorn master and its workers), from /proc (Linux; 0 elsewhere)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(stat.parent.name), int(fields[1])
        if master_pid in (pid, ppid):
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reseed", action="store_true",
                        help="Drop and recreate the bench database first.")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=lambda s: [int(c) for c in s.split(",")],
                        default=[1, 4], help="Comma-separated, e.g. 1,4,16.")
    parser.add_argument("--duration", type=float, default=10,
                        help="Seconds per measured run.")
    parser.add_argument("--max-requests", type=int, default=20000,
                        help="Requests per measured run at most.")
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    return parser.parse_args()


# --- Database and data ---------------------------------------------------------------------


def ensure_database(url: str, *, recreate: bool) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and recreate:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"Created database {name}.")


def server_environment(database_url: str, redis_url: str) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
        "CACHE_KEY_PREFIX": "commerce-bench",
        "LOG_LEVEL": "WARNING",
        # The load comes from one address: a per-client budget would throttle
        # it. The cost itself is still worked out and checked (GRAPHQL_MAX_COST).
        "GRAPHQL_COST_BUCKET_SIZE": "0",
        # This benchmark measures execution: the response cache (where there
        # is one) stays off.
        "GRAPHQL_RESPONSE_CACHE": "0",
        "PYTHONPATH": str(ROOT),
    }


def prepare_data(args) -> float | None:
    from django.core.management import call_command
    from django.db import connection

    from apps.demo.seed import seed_demo
    from apps.catalog.models import Product

    call_command("migrate", verbosity=0)
    existing = Product.objects.count()
    if existing:
        if existing != args.products:
            print(f"The bench database has {existing} products (not {args.products}); "
                  "using them. --reseed starts over.")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # seed_demo does it too; a reused database may predate that
        return None
    print(f"Seeding {args.products} products...", flush=True)
    started = time.monotonic()
    seed_demo(products=args.products, seed=args.seed, progress=True)
    return time.monotonic() - started


def operation_text(name: str, path: Path = OPERATIONS) -> str:
    """The operation of the document at `path` and the fragments it uses,
    as a client sends it."""
    from graphql import parse, print_ast
    from graphql.language import FragmentDefinitionNode, FragmentSpreadNode, visit
    from graphql.language.visitor import Visitor

    document = parse(path.read_text())
    fragments = {d.name.value: d for d in document.definitions
                 if isinstance(d, FragmentDefinitionNode)}
    operation = next(d for d in document.definitions
                     if getattr(d, "name", None) and d.name.value == name
                     and not isinstance(d, FragmentDefinitionNode))
    needed: list[str] = []

    class Spreads(Visitor):
        def enter_fragment_spread(self, node: FragmentSpreadNode, *_):
            if node.name.value not in needed:
                needed.append(node.name.value)
                visit(fragments[node.name.value], self)

    visit(operation, Spreads())
    return "\n\n".join(print_ast(d) for d in [operation, *(fragments[n] for n in needed)])


def build_cases(args) -> list[Case]:
    from apps.catalog.models import Product

    def body(operation: str, query: str, variables: dict) -> bytes:
        return json.dumps({"operationName": operation, "query": query,
                           "variables": variables}).encode()

    product_list = operation_text("ProductList")
    detail = operation_text("ProductDetail")
    tree = operation_text("CategoryTree")
    # A product page for each of the first 50 products (several, so one
    # product's rows do not sit in every cache).
    slugs = list(Product.objects.visible_to_customers().order_by("name", "id")
                 .values_list("slug", flat=True)[:50])
    cases = []
    for first in (100, 20):
        list_body = [body("ProductList", product_list, {"first": first})]
        cases.append(Case(f"ProductList first:{first}", "ProductList", GRAPHQL_PATH, list_body))
        cases.append(Case(f"ceiling first:{first}", "ProductList", CEILING_PATH, list_body))
    cases.append(Case("ProductDetail", "ProductDetail", GRAPHQL_PATH,
                      [body("ProductDetail", detail, {"slug": s}) for s in slugs]))
    cases.append(Case("CategoryTree", "CategoryTree", GRAPHQL_PATH,
                      [body("CategoryTree", tree, {})]))
    return cases


# --- Query counts, in-process ---------------------------------------------------------------


def asgi_post(path: str, payload: bytes) -> tuple[int, dict]:
    import httpx
    from asgiref.sync import async_to_sync

    from commerce.asgi import application

    async def send():
        transport = httpx.ASGITransport(app=application, client=("127.0.0.1", 4000))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            return await c.post(path, content=payload,
                                headers={"Content-Type": "application/json"})

    response = async_to_sync(send)()
    return response.status_code, response.json()


def count_queries(cases: list[Case]) -> None:
    """Each case's first request, once, under CaptureQueriesContext. The app's
    sync_to_async work runs on this thread (async_to_sync sends it back), so
    its queries are on this thread's connection. Also checks that the ceiling
    answers what GraphQL answers."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    answers: dict[tuple[str, bytes], dict] = {}
    for case in cases:
        asgi_post(case.path, case.bodies[0])  # warm: imports, pools, caches
        with CaptureQueriesContext(connection) as captured:
            status, answer = asgi_post(case.path, case.bodies[0])
        if status != 200 or answer.get("errors"):
            raise SystemExit(f"{case.label} failed in-process: {status} {answer}")
        case.queries = len(captured.captured_queries)
        answers[(case.path, case.bodies[0])] = answer
    for case in cases:
        if case.is_ceiling:
            graphql = answers[(GRAPHQL_PATH, case.bodies[0])]
            ceiling = answers[(case.path, case.bodies[0])]
            if graphql != ceiling:
                print(f"WARNING: the ceiling's answer differs from GraphQL's for {case.label}:")
                print(first_difference(graphql, ceiling))
            else:
                print(f"{case.label}: same JSON as GraphQL.")


def first_difference(a, b, where="$") -> str:
    if type(a) is not type(b):
        return f"{where}: {a!r} != {b!r}"
    if isinstance(a, dict):
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                return first_difference(a.get(key), b.get(key), f"{where}.{key}")
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{where}: {len(a)} items != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return first_difference(x, y, f"{where}[{i}]")
    return f"{where}: {a!r} != {b!r}"


# --- The server ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_server(port: int, workers: int, env: dict[str, str]):
    command = [
        str(Path(sys.executable).with_name("gunicorn")), "commerce.asgi:application",
        "--worker-class", "uvicorn_worker.UvicornWorker", "--workers", str(workers),
        "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--graceful-timeout", "5",
    ]
    print(f"Starting: {' '.join(command)}", flush=True)
    server = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env})
    try:
        wait_healthy(f"http://127.0.0.1:{port}/healthz", server)
        yield server
    finally:
        stop(server)


def stop(process: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM (a graceful stop), then SIGKILL after `timeout` seconds."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_healthy(url: str, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"The server exited with {server.returncode}.")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        time.sleep(0.3)
    raise SystemExit("The server did not become healthy in time.")


def check_over_http(base_url: str, case: Case) -> None:
    request = urllib.request.Request(base_url + case.path, data=case.bodies[0],
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.loads(response.read())
    if answer.get("errors") or not answer.get("data"):
        raise SystemExit(f"{case.label} failed over HTTP: {answer}")


# --- Load clients ------------------------------------------------------------------------------


def pick_client(choice: str) -> str:
    if choice in ("auto", "wrk") and not shutil.which("wrk") and os.geteuid() == 0:
        print("wrk is missing; installing it with apt-get...", flush=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False,
                       stdout=subprocess.DEVNULL)
    if shutil.which("wrk") and choice != "python":
        return "wrk"
    if choice == "wrk":
        raise SystemExit("wrk is not installed (apt-get install wrk).")
    return "python"


def run_load(client: str, base_url: str, case: Case, concurrency: int, *, seconds: float,
             max_requests: int) -> Load:
    if client == "wrk":
        return wrk_load(base_url, case, concurrency, seconds, max_requests)
    return asyncio.run(python_load(base_url, case, concurrency, seconds, max_requests))


WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local bodies = {%(bodies)s}
local limit = %(limit)d
local counter = 0
local done_here = 0

function setup(thread)
  thread:set("offset", counter)
  counter = counter + 1
end

function init(args)
  n = offset or 0
end

function request()
  n = n + 1
  return wrk.format(nil, nil, nil, bodies[(n %% #bodies) + 1])
end

function response(status, headers, body)
  done_here = done_here + 1
  if done_here >= limit then wrk.thread:stop() end
end

function done(summary, latency, requests)
  io.write(string.format(
    "BENCH {\\"requests\\": %%d, \\"micros\\": %%d, \\"p50\\": %%d, \\"p95\\": %%d, " ..
    "\\"p99\\": %%d, \\"status\\": %%d, \\"errors\\": %%d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99),
    summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def wrk_load(base_url: str, case: Case, concurrency: int, seconds: float,
             max_requests: int) -> Load:
    threads = max(1, min(concurrency, os.cpu_count() or 1, 4))
    bodies = ", ".join(f"[==[{b.decode()}]==]" for b in case.bodies)
    script = WRK_SCRIPT % {"bodies": bodies, "limit": max(1, max_requests // threads)}
    return run_wrk(base_url + case.path, script, threads, concurrency, seconds)


def run_wrk(url: str, script: str, threads: int, concurrency: int, seconds: float) -> Load:
    """wrk against `url` with the Lua `script`, whose done() prints a BENCH line."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    try:
        out = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{seconds:g}s", "--timeout", "30s",
             "-s", f.name, url],
            capture_output=True, text=True, check=True,
        ).stdout
    finally:
        os.unlink(f.name)
    line = next(x for x in out.splitlines() if x.startswith("BENCH "))
    data = json.loads(line[len("BENCH "):])
    return Load(requests=data["requests"], seconds=data["micros"] / 1e6,
                p50_ms=data["p50"] / 1000, p95_ms=data["p95"] / 1000,
                p99_ms=data["p99"] / 1000, failures=data["status"] + data["errors"])


async def python_load(base_url: str, case: Case, concurrency: int, seconds: float,
                      max_requests: int) -> Load:
    import httpx

    latencies: list[float] = []
    failures = 0
    sent = 0
    started = time.perf_counter()
    deadline = started + seconds

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal failures, sent
        while time.perf_counter() < deadline and sent < max_requests:
            body = case.bodies[sent % len(case.bodies)]
            sent += 1
            t0 = time.perf_counter()
            try:
                response = await client.post(case.path, content=body,
                                             headers={"Content-Type": "application/json"})
                ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            latencies.append(time.perf_counter() - t0)
            failures += not ok

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies) or [0.0]
    return Load(requests=len(latencies), seconds=elapsed,
                p50_ms=statistics.median(ordered) * 1000,
                p95_ms=percentile(ordered, 0.95) * 1000,
                p99_ms=percentile(ordered, 0.99) * 1000, failures=failures)


def percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


# --- Report -------------------------------------------------------------------------------------


def render(rows, *, args, client: str, seed_seconds: float | None) -> str:
    from django.db import connection

    from apps.catalog.models import Product, ProductVariant

    ceilings = {(case_size(case), c): load for case, c, load in rows if case.is_ceiling}
    lines = [
        "# Storefront benchmark",
        "",
        f"- When: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {git_commit()}",
        f"- Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, PostgreSQL {connection.pg_version // 10000}; load average "
        f"{LOAD_AT_START[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end (other work on "
        "the machine skews the numbers)",
        f"- Data: {Product.objects.count()} products, {ProductVariant.objects.count()} variants"
        + (f" (seeded in {seed_seconds:.1f} s)" if seed_seconds is not None else ""),
        f"- Server: gunicorn + uvicorn_worker.UvicornWorker, {args.workers} workers, DEBUG off, "
        "Redis cache, response cache off (GRAPHQL_RESPONSE_CACHE=0); anonymous requests",
        f"- Client: {client_description(client)}; each run {args.duration:g} s or "
        f"{args.max_requests} requests at most, after a 1 s warm-up",
        "- CPU ms/req: the server processes' user + system time over the run (/proc), per "
        "request; SQL/req: queries of one request, counted in-process (CaptureQueriesContext)",
        "- Ceiling: bench/ceiling.py, a hand-written view answering ProductList's JSON "
        "(checked equal) with one query; ÷ ceiling compares with the ceiling of the same page "
        "size and concurrency in this run",
        "",
        "| document | conc. | req/s | req/s ÷ ceiling | CPU ms/req | CPU ÷ ceiling | p50 ms "
        "| p95 ms | p99 ms | p99 ÷ p50 | SQL/req |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for case, concurrency, load in rows:
        ceiling = None if case.is_ceiling else ceilings.get((case_size(case), concurrency))
        failed = f" ({load.failures} failed)" if load.failures else ""
        cells = [
            case.label, str(concurrency), f"{load.rps:.1f}{failed}",
            f"{load.rps / ceiling.rps:.0%}" if ceiling and ceiling.rps else "—",
            f"{load.cpu_ms:.1f}",
            f"{load.cpu_ms / ceiling.cpu_ms:.2f}×" if ceiling and ceiling.cpu_ms else "—",
            f"{load.p50_ms:.1f}", f"{load.p95_ms:.1f}", f"{load.p99_ms:.1f}",
            f"{load.p99_ms / load.p50_ms:.2f}" if load.p50_ms else "—", str(case.queries),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def client_description(client: str) -> str:
    if client == "wrk":
        version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout
        return (version.splitlines() or ["wrk"])[0].split(" [")[0] + " (Lua script for POST bodies)"
    return "asyncio + httpx (wrk not available)"


def git_commit() -> str:
    result = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True)
    return result.stdout.strip() or "unknown"


if __name__ == "__main__":
    if "--scale" in sys.argv[1:]:  # cost as the catalog grows: bench/scale.py
        from bench import scale

        scale.main([arg for arg in sys.argv[1:] if arg != "--scale"])
    else:
        main()
