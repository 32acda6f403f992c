"""The response cache under load: `make bench`'s second server run.

bench/run.py measures execution with the response cache off. This runs the
same server again with it on (GRAPHQL_RESPONSE_CACHE=1, the entries in
BENCH_REDIS_URL) and drives what a storefront behind it costs once an
entry exists:

- `hit ProductList first:100`: the POST run.py measures, answered from the
  cache (its first request builds the entry);
- `APQ GET hit first:100`: the persisted query over GET with no validator,
  as a browser without a cached copy sends it: 200 from the entry;
- `APQ GET 304 first:100`: the same GET with the entry's ETag in
  If-None-Match, as a CDN or a browser revalidates: 304, no body.

Each is compared with the ceiling of the uncached run (same page size and
concurrency): a hit should be several times the ceiling's req/s, since it
runs no SQL and no executor. In-process first, a hit is checked to run no
SQL. Only with wrk (the GET cases need its Lua script); BENCH_CACHED=0
leaves the whole run out.
"""

import hashlib
import json
import os
import urllib.error
import urllib.request
from urllib.parse import urlencode

from bench import run

LIST_VARIABLES = {"first": 100}
# What Apollo Client sends on GET: the JSON Content-Type also passes the
# server's CSRF prevention (schema/csrf.py).
APOLLO_GET = {"Accept": "application/json", "Content-Type": "application/json"}

GET_SCRIPT = """
wrk.method = "GET"
%(headers)s
local expected = %(status)d
local limit = %(limit)d
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  unexpected = 0
  done_here = 0
end

function response(status, headers, body)
  done_here = done_here + 1
  if status ~= expected then unexpected = unexpected + 1 end
  if done_here >= limit then wrk.thread:stop() end
end

function done(summary, latency, requests)
  local wrong = 0
  for _, thread in ipairs(threads) do wrong = wrong + thread:get("unexpected") end
  io.write(string.format(
    "BENCH {\\"requests\\": %%d, \\"micros\\": %%d, \\"p50\\": %%d, \\"p95\\": %%d, " ..
    "\\"p99\\": %%d, \\"status\\": %%d, \\"errors\\": %%d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), wrong,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


class GetCase(run.Case):
    """A GET of `url` (path and query string) with `headers`, answered `status`."""

    def __init__(self, label: str, url: str, *, headers: dict[str, str], status: int):
        super().__init__(label, "ProductList", url, [])
        self.headers, self.status = headers, status


def enabled(client: str) -> bool:
    if os.environ.get("BENCH_CACHED", "1") == "0":
        return False
    if client != "wrk":
        print("The response cache run needs wrk; left out.")
        return False
    return True


def measure(*, args, env: dict[str, str], client: str,
            ceilings: dict[tuple[str, int], run.Load]) -> list[tuple[run.Case, int, run.Load]]:
    """The cached cases' rows, as run.py's: (case, concurrency, load)."""
    if not enabled(client):
        return []
    env = {**env, "GRAPHQL_RESPONSE_CACHE": "1"}
    query = run.operation_text("ProductList")
    post = run.Case("hit ProductList first:100", "ProductList", run.GRAPHQL_PATH,
                    [json.dumps({"operationName": "ProductList", "query": query,
                                 "variables": LIST_VARIABLES}).encode()])
    post.queries = queries_of_a_hit(post)
    rows = []
    port = run.free_port()
    base_url = f"http://127.0.0.1:{port}"
    print("The response cache on:", flush=True)
    with run.running_server(port, args.workers, env) as server:
        run.check_over_http(base_url, post)  # builds the entry
        for case in [post, *persisted_cases(base_url, query)]:
            case.queries = post.queries
            for concurrency in args.concurrency:
                load_once(client, base_url, case, concurrency, seconds=1, max_requests=200)
                cpu_before = run.server_cpu_seconds(server.pid)
                load = load_once(client, base_url, case, concurrency,
                                 seconds=args.duration, max_requests=args.max_requests)
                load.cpu_seconds = run.server_cpu_seconds(server.pid) - cpu_before
                print(run.progress_line(case, concurrency, load,
                                        ceilings.get((run.case_size(case), concurrency))),
                      flush=True)
                rows.append((case, concurrency, load))
    return rows


def note() -> str:
    return ("\nThe `hit` and `APQ GET` rows: a second server run with the response cache on "
            "(GRAPHQL_RESPONSE_CACHE=1), every request answered from its entry (bench/cached.py); "
            "÷ ceiling compares with the uncached run's ceiling.\n")


def queries_of_a_hit(case: run.Case) -> int:
    """SQL of a request answered from the cache, in-process (0 expected)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext, override_settings

    with override_settings(GRAPHQL_RESPONSE_CACHE=True):
        run.asgi_post(case.path, case.bodies[0])  # the entry
        with CaptureQueriesContext(connection) as captured:
            status, answer = run.asgi_post(case.path, case.bodies[0])
    if status != 200 or answer.get("errors"):
        raise SystemExit(f"{case.label} failed in-process: {status} {answer}")
    return len(captured.captured_queries)


def persisted_cases(base_url: str, query: str) -> list[GetCase]:
    """ProductList registered as a persisted query (POSTed once with its
    hash), then GET by hash: a hit, and a revalidation with its ETag."""
    extensions = {"persistedQuery": {"version": 1,
                                     "sha256Hash": hashlib.sha256(query.encode()).hexdigest()}}
    register = urllib.request.Request(
        base_url + run.GRAPHQL_PATH, headers={"Content-Type": "application/json"},
        data=json.dumps({"operationName": "ProductList", "query": query,
                         "variables": LIST_VARIABLES, "extensions": extensions}).encode())
    urllib.request.urlopen(register, timeout=30).close()
    url = run.GRAPHQL_PATH + "?" + urlencode({
        "operationName": "ProductList", "variables": json.dumps(LIST_VARIABLES),
        "extensions": json.dumps(extensions)})
    with urllib.request.urlopen(urllib.request.Request(base_url + url, headers=APOLLO_GET),
                                timeout=30) as response:
        etag = response.headers["ETag"]
    if not etag:
        raise SystemExit("The persisted ProductList over GET has no ETag.")
    revalidate = urllib.request.Request(base_url + url,
                                        headers={**APOLLO_GET, "If-None-Match": etag})
    try:
        urllib.request.urlopen(revalidate, timeout=30).close()
        raise SystemExit("The persisted ProductList with its ETag was not answered 304.")
    except urllib.error.HTTPError as error:
        if error.code != 304:
            raise SystemExit(f"The revalidation answered {error.code}, not 304.") from None
    return [GetCase("APQ GET hit first:100", url, headers={}, status=200),
            GetCase("APQ GET 304 first:100", url, headers={"If-None-Match": etag}, status=304)]


def load_once(client: str, base_url: str, case: run.Case, concurrency: int, *,
              seconds: float, max_requests: int) -> run.Load:
    if not isinstance(case, GetCase):
        return run.run_load(client, base_url, case, concurrency, seconds=seconds,
                            max_requests=max_requests)
    threads = max(1, min(concurrency, os.cpu_count() or 1, 4))
    headers = "\n".join(f'wrk.headers["{name}"] = [==[{value}]==]'
                        for name, value in {**APOLLO_GET, **case.headers}.items())
    script = GET_SCRIPT % {"headers": headers, "status": case.status,
                           "limit": max(1, max_requests // threads)}
    return run.run_wrk(base_url + case.path, script, threads, concurrency, seconds)
