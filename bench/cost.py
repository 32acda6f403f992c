#!/usr/bin/env python
"""The cost of each shared contract document at its largest page, and what
working out a cost adds to a request (`python bench/cost.py`; not run in CI).

Prints a Markdown table: per operation, the cost with every variable at 100
(page variables at GRAPHQL_MAX_PAGE_SIZE), the time to compile it once, and
the time per request once compiled (the cache look-up, hashing the
request's copy of the query, and the evaluation with its variables, as
QueryCostLimits does). Then the time of one
budget spend on the configured cache (REDIS_URL for Redis).
"""

import itertools
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commerce.settings")
OPERATIONS = Path(os.environ.get("BENCH_OPERATIONS", ROOT.parent / "shared" / "operations"))


def per_call(function, repeat: int = 20000) -> float:
    """Microseconds per call, the best of five runs."""
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(repeat):
            function()
        best = min(best, (time.perf_counter() - started) / repeat)
    return best * 1e6


def main() -> None:
    import django

    django.setup()
    from django.conf import settings
    from graphql import OperationDefinitionNode, parse, validate

    from apps.core import budget
    from schema.cost import CompiledCosts, compile_operation, evaluate
    from schema.schema import schema

    graphql_schema = schema._schema
    page = settings.GRAPHQL_MAX_PAGE_SIZE
    print(f"GRAPHQL_MAX_COST = {settings.GRAPHQL_MAX_COST}\n")
    print("| document | operation | cost at first: 100 | compile µs | per request µs |")
    print("| --- | --- | ---: | ---: | ---: |")
    timings = []
    for path in sorted(OPERATIONS.rglob("*.graphql")):
        text = path.read_text()
        document = parse(text)
        if validate(graphql_schema, document):
            print(f"| {path.relative_to(OPERATIONS)} | (does not validate yet) | | | |")
            continue
        for node in document.definitions:
            if not isinstance(node, OperationDefinitionNode):
                continue
            name = node.name.value
            variables = {d.variable.name.value: 100 for d in node.variable_definitions or ()}
            compile_us = per_call(lambda: compile_operation(  # noqa: B023
                schema=graphql_schema, document=document, operation_name=name,  # noqa: B023
                max_page_size=page), repeat=500)
            costs = CompiledCosts()
            # Each request brings its own copy of the query, whose hash the
            # cache look-up works out again.
            copies = itertools.cycle([text.encode().decode() for _ in range(1000)])

            def hot(costs=costs, name=name, variables=variables, document=document,
                    copies=copies):
                expr = costs.get(schema=graphql_schema, query=next(copies), document=document,
                                 operation_name=name, max_page_size=page)
                return evaluate(expr, variables)

            value = hot()
            request_us = per_call(hot)
            timings.append(request_us)
            print(f"| {path.relative_to(OPERATIONS)} | {name} | {value} | {compile_us:.0f} "
                  f"| {request_us:.2f} |")
    if timings:
        print(f"\nPer request, cached: {min(timings):.2f}–{max(timings):.2f} µs.")
    backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    spend_us = per_call(lambda: budget.spend(key="bench", cost=1, size=10**9, rate=1.0),
                        repeat=2000)
    print(f"One budget spend ({backend}): {spend_us:.0f} µs.")


if __name__ == "__main__":
    main()
