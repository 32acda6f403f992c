#!/usr/bin/env python
"""Where a storefront request's time goes (`make profile`; not run in CI).

Runs ProductList(first: 100), anonymous, through the real ASGI application
(Django's handler, the middleware, the GraphQL view and schema) in this
process, against the benchmark's PostgreSQL database (seeded as bench/run.py
seeds it), with no server and no load client in the way:

- `--mode time` (the default): the fastest and the median of N requests,
  then N more under cProfile, with the top entries by cumulative and by own
  ("self") time. cProfile's own cost inflates Python-heavy code; compare
  entries with one another, and runs with runs, not with wall-clock figures.
- `--mode callgrind`: the same requests under `valgrind --tool=callgrind`,
  counting the instructions of the N measured requests only (the counters are
  zeroed after the warm-up and dumped after the last request, with
  callgrind_control): a figure that does not move when the machine is
  busy, unlike any timing here. Prints instructions per request and keeps
  the dump in bench/results/callgrind.out.
- `--mode hops`: the thread hops of one request (asgiref's SyncToAsync and
  AsyncToSync calls), counted and listed by the function run on the other
  side; with `--cached`, the response cache is on and the request is a hit.
- `--mode gc`: N requests (500 unless -n) with the collector watched: each
  collection's generation and pause, the requests' p50/p99, and how many
  objects the oldest generation holds as requests go by (what a full
  collection must walk; the heap frozen at start-up is not in it).

Environment: BENCH_DATABASE_URL and BENCH_REDIS_URL, as bench/run.py.
`make profile PROFILE_ARGS="--mode callgrind -n 5"`.
"""

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on the path, where this
# module's name would hide the standard library's `profile` (cProfile's).
ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import cProfile  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import pstats  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

from bench.run import (  # noqa: E402 - after the path is set
    CEILING_PATH,
    RESULTS,
    GRAPHQL_PATH,
    ensure_database,
    operation_text,
    server_environment,
)

UNDER_CALLGRIND = "BENCH_PROFILE_UNDER_CALLGRIND"


def main() -> None:
    args = parse_args()
    database_url = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/commerce_bench"
    )
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/4")
    if not os.environ.get(UNDER_CALLGRIND):
        ensure_database(database_url, recreate=False)
    os.environ.update(server_environment(database_url, redis_url))
    if args.cached:
        os.environ["GRAPHQL_RESPONSE_CACHE"] = "1"

    import django

    django.setup()
    if not os.environ.get(UNDER_CALLGRIND):
        seeded(args.products)
        if args.mode == "callgrind":
            # Seeded here, outside valgrind, where it takes seconds, not hours.
            raise SystemExit(run_under_callgrind(args))
    body = json.dumps({"operationName": "ProductList", "query": operation_text("ProductList"),
                       "variables": {"first": args.first}}).encode()
    from commerce.asgi import application

    request = Requester(application, body, CEILING_PATH if args.ceiling else GRAPHQL_PATH)
    modes = {"hops": lambda: count_hops(request), "gc": lambda: watch_collector(request, args)}
    asyncio.run(modes.get(args.mode, lambda: profile(request, args))())


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=["time", "callgrind", "hops", "gc"], default="time")
    parser.add_argument("-n", "--requests", type=int, default=0,
                        help="Measured requests (default: 50 timed, 5 under callgrind).")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--ceiling", action="store_true",
                        help="Profile the hand-written ceiling view instead (bench/ceiling.py).")
    parser.add_argument("--first", type=int, default=100, help="ProductList's page size.")
    parser.add_argument("--cached", action="store_true",
                        help="Response cache on (GRAPHQL_RESPONSE_CACHE=1): measure a hit.")
    parser.add_argument("--gc-threshold", metavar="G0,G1,G2",
                        help="gc.set_threshold for the run, after the app loads (--mode gc).")
    parser.add_argument("--top", type=int, default=25, help="Entries of each listing.")
    parser.add_argument("--save", metavar="FILE",
                        help="Also write cProfile's statistics there (pstats, snakeviz).")
    parser.add_argument("--products", type=int, default=2000,
                        help="Products to seed into an empty bench database.")
    args = parser.parse_args()
    args.requests = args.requests or {"callgrind": 5, "gc": 500}.get(args.mode, 50)
    return args


def seeded(products: int) -> None:
    from django.core.management import call_command

    from apps.catalog.models import Product
    from apps.demo.seed import seed_demo

    call_command("migrate", verbosity=0)
    if not Product.objects.exists():
        print(f"Seeding {products} products...", flush=True)
        seed_demo(products=products, seed=1, progress=True)


class Requester:
    """One POST to /graphql/ through the ASGI application, as uvicorn would
    send it (the body in one message; disconnect only after the answer)."""

    def __init__(self, application, body: bytes, path: str) -> None:
        self.application = application
        self.body = body
        self.scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": "POST", "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
            "headers": [(b"host", b"127.0.0.1:8000"), (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode())],
            "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8000),
        }

    async def __call__(self) -> bytes:
        answered = asyncio.Event()
        sent = False
        chunks: list[bytes] = []
        status = 0

        async def receive() -> dict:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": self.body, "more_body": False}
            await answered.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    answered.set()

        await self.application(dict(self.scope), receive, send)
        content = b"".join(chunks)
        if status != 200 or b'"errors"' in content[:200]:
            raise SystemExit(f"ProductList failed: {status} {content[:500]!r}")
        return content


async def profile(request: Requester, args: argparse.Namespace) -> None:
    for _ in range(args.warmup):
        answer = await request()
    edges = len(json.loads(answer)["data"]["products"]["edges"])
    name = "ceiling" if args.ceiling else "ProductList"
    print(f"{name}(first: {args.first}): {edges} products, {len(answer)} bytes", flush=True)
    if os.environ.get(UNDER_CALLGRIND):
        callgrind_control("--zero")
        for _ in range(args.requests):
            await request()
        callgrind_control("--dump=measured")
        return

    timings = []
    for _ in range(args.requests):
        started = time.perf_counter()
        await request()
        timings.append(time.perf_counter() - started)
    print(f"{args.requests} requests: fastest {min(timings) * 1000:.1f} ms, "
          f"median {statistics.median(timings) * 1000:.1f} ms (load average "
          f"{os.getloadavg()[0]:.1f})")
    profiler = cProfile.Profile()
    in_threads = ThreadProfiles()
    profiler.enable()
    with in_threads:
        for _ in range(args.requests):
            await request()
    profiler.disable()
    stats = in_threads.stats(pstats.Stats(profiler))
    if args.save:
        stats.dump_stats(args.save)
    for key, title in (("cumulative", "cumulative"), ("tottime", "self")):
        print(f"\nTop {args.top} by {title} time, {args.requests} requests under cProfile:")
        print(listing(stats, key, args.top))


async def count_hops(request: Requester) -> None:
    """One request's thread hops, by what each ran: every SyncToAsync or
    AsyncToSync call is a thread switch (and a future, a lock and an
    executor job) that a request pays for on top of its own work."""
    from collections import Counter

    from asgiref import sync

    hops: Counter[str] = Counter()

    def counted(cls: type) -> None:
        original = cls.__call__

        def call(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            target = getattr(self, "func", None) or getattr(self, "awaitable", None)
            target = getattr(target, "__func__", target)
            name = getattr(target, "__qualname__", repr(target))
            hops[f"{cls.__name__}: {getattr(target, '__module__', '?')}.{name}"] += 1
            return original(self, *args, **kwargs)

        cls.__call__ = call  # type: ignore[method-assign]

    await request()  # warm-up: with the cache on, this builds the entry
    await request()
    counted(sync.SyncToAsync)
    counted(sync.AsyncToSync)
    await request()
    print(f"{sum(hops.values())} thread hops in one request:")
    for name, count in hops.most_common():
        print(f"{count:4d}  {name}")


async def watch_collector(request: Requester, args: argparse.Namespace) -> None:
    """The collector's pauses during N requests, by generation, beside the
    requests' own times: whether its collections make the tail."""
    import gc

    if args.gc_threshold:
        gc.set_threshold(*(int(n) for n in args.gc_threshold.split(",")))
    for _ in range(args.warmup):
        await request()
    pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
    started = [0.0]

    def watch(phase: str, info: dict) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            pauses[info["generation"]].append((time.perf_counter() - started[0]) * 1000)

    oldest = [len(gc.get_objects(2))]
    timings = []
    gc.callbacks.append(watch)
    try:
        for done in range(1, args.requests + 1):
            began = time.perf_counter()
            await request()
            timings.append((time.perf_counter() - began) * 1000)
            if done % (args.requests // 4 or 1) == 0:
                oldest.append(len(gc.get_objects(2)))
    finally:
        gc.callbacks.remove(watch)
    timings.sort()
    p50, p99 = timings[len(timings) // 2], timings[int(len(timings) * 0.99)]
    print(f"{args.requests} requests: p50 {p50:.1f} ms, p99 {p99:.1f} ms (p99/p50 "
          f"{p99 / p50:.2f}); thresholds {gc.get_threshold()}, {gc.get_freeze_count():,} "
          "objects frozen")
    for generation, found in pauses.items():
        if found:
            print(f"  generation {generation}: {len(found)} collections, "
                  f"{sum(found) / args.requests:.2f} ms a request, longest {max(found):.2f} ms")
    print("  objects in the oldest generation, by quarter of the run: "
          + " -> ".join(f"{n:,}" for n in oldest))


class ThreadProfiles:
    """cProfile follows one thread; the database work runs in others
    (sync_to_async). Each thread started inside the block gets a profiler of
    its own (threading.setprofile runs in every new thread), merged into the
    main thread's statistics at the end, so that the listings show where
    those threads spend their time too (the main thread's wait for them is
    its `poll`)."""

    def __init__(self) -> None:
        self.profilers: list[cProfile.Profile] = []

    def _start(self, *_: object) -> None:
        profiler = cProfile.Profile()
        self.profilers.append(profiler)
        profiler.enable()

    def __enter__(self) -> "ThreadProfiles":
        threading.setprofile(self._start)
        return self

    def __exit__(self, *_: object) -> None:
        threading.setprofile(None)  # type: ignore[arg-type]

    def stats(self, main: pstats.Stats) -> pstats.Stats:
        for profiler in self.profilers:
            profiler.disable()
            main.add(profiler)
        return main


def listing(stats: pstats.Stats, key: str, top: int) -> str:
    """pstats' table, with file paths shortened to the package."""
    out = io.StringIO()
    stats.stream = out  # type: ignore[attr-defined]
    stats.sort_stats(key).print_stats(top)
    text = out.getvalue()
    text = text[text.index("   ncalls"):] if "   ncalls" in text else text
    for prefix in sorted({str(ROOT) + "/", *site_packages()}, key=len, reverse=True):
        text = text.replace(prefix, "")
    return text.rstrip()


def site_packages() -> set[str]:
    import site
    import sysconfig

    return {p.rstrip("/") + "/" for p in [*site.getsitepackages(), sysconfig.get_path("stdlib")]}


def callgrind_control(option: str) -> None:
    subprocess.run(["callgrind_control", option, str(os.getpid())], check=True,
                   stdout=subprocess.DEVNULL)


def run_under_callgrind(args: argparse.Namespace) -> int:
    """This script again, under callgrind, with nothing collected before
    the measured requests; then the count per request."""
    if not shutil.which("valgrind"):
        return "valgrind is not installed (apt-get install valgrind)."  # type: ignore[return-value]
    database_url = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/commerce_bench"
    )
    ensure_database(database_url, recreate=False)
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "callgrind.out"
        command = [
            "valgrind", "--tool=callgrind", f"--callgrind-out-file={out}.%p",
            sys.executable, __file__, *sys.argv[1:],
        ]
        print("Running under callgrind (about a minute to start)...", flush=True)
        done = subprocess.run(command, env={**os.environ, UNDER_CALLGRIND: "1",
                                            "PYTHONHASHSEED": "0"},
                              stderr=subprocess.PIPE, text=True)
        if done.returncode:
            print(done.stderr[-3000:], file=sys.stderr)
            return done.returncode
        dumps = sorted(Path(folder).glob("callgrind.out.*.1"))  # the "measured" dump
        if not dumps:
            print(done.stderr[-3000:], file=sys.stderr)
            return 1
        RESULTS.mkdir(parents=True, exist_ok=True)
        kept = RESULTS / "callgrind.out"
        shutil.copyfile(dumps[0], kept)
    annotated = subprocess.run(["callgrind_annotate", "--inclusive=no", "--auto=no", str(kept)],
                               capture_output=True, text=True, check=True).stdout
    total = next(int(line.split()[0].replace(",", "")) for line in annotated.splitlines()
                 if "PROGRAM TOTALS" in line)
    print(f"\n{total / args.requests:,.0f} instructions per request "
          f"({args.requests} requests, {total:,} in all); the counts by C function are in "
          f"{kept} (callgrind_annotate, kcachegrind)")
    return 0


if __name__ == "__main__":
    main()
