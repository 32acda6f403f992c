#!/usr/bin/env python
"""How long the costliest documents the token limit lets through take to
parse and validate (`make bench-shapes`; not run in CI, needs no database).

For each shape, the largest document within GRAPHQL_MAX_TOKENS is built and
timed (best of --repeat runs, with the garbage collector paused so that a
full collection of the process does not land in one shape's time):

- ours: the server's parse and validation (schema/validation.py), uncached;
- spec: graphql-core's specified rules alone, as the server ran them before
  its own limits (no limits at all);
- strawberry: strawberry's QueryDepthLimiter and MaxAliasesLimiter alone,
  which the server used before, for the fan-out only (they take minutes
  past about 22 levels).

Writes the table to bench/results/shapes.md as well.
"""

import argparse
import gc
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commerce.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from graphql import parse, specified_rules, validate  # noqa: E402
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter  # noqa: E402

from schema.extensions import _limit_rules  # noqa: E402
from schema.schema import schema  # noqa: E402
from schema.parsing import parse_document  # noqa: E402
from schema.validation import validate_document  # noqa: E402


def fan_out(levels: int) -> str:
    fragments = [
        f"fragment F{i} on Query {{ __typename ...F{i + 1} ...F{i + 1} }}" for i in range(levels)
    ]
    return "{ ...F0 } " + " ".join(fragments) + f" fragment F{levels} on Query {{ __typename }}"


def fragments_on_one_selection(count: int) -> str:
    return "{ " + " ".join(f"...F{i}" for i in range(count)) + " } " + " ".join(
        f"fragment F{i} on Query {{ u{i} {{ x }} }}" for i in range(count)
    )


def repeated_nested(count: int) -> str:
    chain = "parent { " * 13 + "id" + " }" * 13
    return "{ " + f'category(slug: "x") {{ {chain} }} ' * count + "}"


def variables(count: int) -> str:
    definitions = " ".join(f"$v{i}: ID!" for i in range(count))
    uses = ", ".join(f"$v{i}" for i in range(count))
    return (f"query({definitions}) {{ products(first: 1, filters: {{categories: [{uses}]}}) "
            "{ totalCount } }")


SHAPES: dict[str, Callable[[int], str]] = {
    "fragment fan-out (each spreads the next twice)": fan_out,
    "one field repeated": lambda n: "{ " + "__typename " * n + "}",
    "one nested field repeated, 14 deep": repeated_nested,
    "fragments spread on one selection": fragments_on_one_selection,
    "inline fragments on one selection": lambda n: "{ " + "... on Query { __typename } " * n + "}",
    "aliases, one per field": lambda n: "{ " + " ".join(f"a{i}: __typename" for i in range(n)) + " }",
    "variables, all used": variables,
    "variables, none used": lambda n: "query(" + " ".join(f"$v{i}: Int" for i in range(n))
    + ") { __typename }",
    "a directive repeated on one field": lambda n: "{ __typename " + "@include(if: true) " * n + "}",
    "a directive on each of many fields": lambda n: "{ " + "__typename @include(if: true) " * n
    + "}",
    "an argument repeated": lambda n: "{ category(" + 'slug: "x" ' * n + ") { id } }",
    "an input field repeated": lambda n: "{ products(first: 1, filters: {" + 'search: "x" ' * n
    + "}) { totalCount } }",
    "a long list literal": lambda n: "{ products(first: 1, filters: {categories: ["
    + '"x" ' * n + "]}) { totalCount } }",
    "operations": lambda n: " ".join(f"query Q{i} {{ __typename }}" for i in range(n)),
    "unknown fields": lambda n: "{ " + " ".join(f"f{i}" for i in range(n)) + " }",
}


def tokens(query: str) -> int | None:
    try:
        return parse(query, max_tokens=settings.GRAPHQL_MAX_TOKENS).token_count
    except Exception:  # noqa: BLE001 (over the limit or not parsable)
        return None


def largest(make: Callable[[int], str], ceiling: int = 20_000) -> int:
    """The largest size whose document parses within the token limit."""
    low, high = 1, ceiling
    while low < high:
        middle = (low + high + 1) // 2
        if tokens(make(middle)) is not None:
            low = middle
        else:
            high = middle - 1
    return low


def best(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    graphql_schema = schema._schema
    rules = _limit_rules(
        False, settings.GRAPHQL_MAX_FIELD_COMPARISONS, max_depth=settings.GRAPHQL_MAX_DEPTH,
        max_aliases=settings.GRAPHQL_MAX_ALIASES, max_selections=settings.GRAPHQL_MAX_SELECTIONS,
    )
    old_limiters = (
        *QueryDepthLimiter(max_depth=settings.GRAPHQL_MAX_DEPTH).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.GRAPHQL_MAX_ALIASES).validation_rules,
    )
    rows = ["| shape | size | tokens | parse ms | ours: validate ms | answer | "
            "spec rules ms | strawberry limiters ms |", "|---|---|---|---|---|---|---|---|"]
    gc.disable()
    try:
        for name, make in SHAPES.items():
            size = 198 if make is fan_out else largest(make)
            query = make(size)
            document = parse_document(query, max_tokens=settings.GRAPHQL_MAX_TOKENS)
            parse_ms = best(lambda: parse_document(query, max_tokens=settings.GRAPHQL_MAX_TOKENS),
                            args.repeat)
            errors = validate_document.__wrapped__(graphql_schema, document, rules, True)
            ours_ms = best(lambda: validate_document.__wrapped__(
                graphql_schema, document, rules, True), args.repeat)
            spec_ms = best(lambda: validate(graphql_schema, document, specified_rules), 1)
            old_ms = "—"
            if make is fan_out:
                small = parse(fan_out(18))
                old_ms = f"{best(lambda: validate(graphql_schema, small, old_limiters), 1) * 1000:.0f}"
                old_ms += " (at 18 levels)"
            answer = errors[0].message[:60] if errors else "valid"
            rows.append(
                f"| {name} | {size} | {tokens(query)} | {parse_ms * 1000:.1f} | "
                f"{ours_ms * 1000:.1f} | {answer} | {spec_ms * 1000:.0f} | {old_ms} |"
            )
            print(rows[-1], flush=True)
    finally:
        gc.enable()
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / "shapes.md").write_text("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
