"""Writing the demo catalog's rows in bulk: COPY on PostgreSQL, bulk_create
elsewhere.

The demo seeds up to hundreds of thousands of products (the scale
benchmark's 200,000 are some 2.5 million rows with their variants, stock,
movements, images and reviews). Model instances and multi-row INSERTs cost
about 50 µs a row in Python and as much again in PostgreSQL's parser, which
would take the 200,000 past twenty minutes; rows handed to COPY as tuples
take a fraction of that. The rows are the same whichever path writes them:
each field not given gets what the model would (its default, `auto_now`
timestamps, null), converted by the field itself, so nothing here knows a
column's format.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import connection
from django.db.models import JSONField, Model
from django.utils import timezone


def insert(model: type[Model], rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert `rows` (attribute name to value) of `model` and answer their
    ids, in order."""
    if not rows:
        return []
    if connection.vendor != "postgresql":
        objects = model._default_manager.bulk_create([model(**row) for row in rows])
        return [obj.pk for obj in objects]
    return _copy(model, rows)


def _copy(model: type[Model], rows: Sequence[dict[str, Any]]) -> list[int]:
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    fields = [f for f in meta.concrete_fields if f is not pk]
    now = timezone.now()
    fillers = [_filler(field, now) for field in fields]
    columns = ", ".join(connection.ops.quote_name(str(f.column)) for f in (pk, *fields))
    with connection.cursor() as cursor:
        # Ids from the table's own sequence, so they are what an INSERT gives:
        # a block of them, taken while no one else can insert (the lock lasts
        # until the commit).
        table = connection.ops.quote_name(meta.db_table)
        cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [meta.db_table, pk.column])
        sequence = cursor.fetchone()[0]
        cursor.execute("SELECT setval(%s, nextval(%s) + %s - 1)", [sequence, sequence, len(rows)])
        last = cursor.fetchone()[0]
        ids = list(range(last - len(rows) + 1, last + 1))
        statement = f"COPY {table} ({columns}) FROM STDIN"
        with cursor.cursor.copy(statement) as copy:
            for pk_value, row in zip(ids, rows, strict=True):
                copy.write_row([pk_value, *(fill(row) for fill in fillers)])
    return ids


def _filler(field: Any, now: Any):
    """How one column's value is made from a row: the given value, else what
    the model would put there. Values go to psycopg as they are (strings,
    numbers, Decimals, datetimes, None), but JSON, which the field itself
    wraps as it does for any query."""
    name = field.attname
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        missing: Any = lambda: now  # noqa: E731
    elif field.has_default():
        missing = field.get_default
    else:
        missing = lambda: None  # noqa: E731
    if isinstance(field, JSONField):
        def fill(row: dict[str, Any]) -> Any:
            value = row[name] if name in row else missing()
            return field.get_db_prep_save(value, connection)
    else:
        def fill(row: dict[str, Any]) -> Any:
            return row[name] if name in row else missing()
    return fill


@contextmanager
def indexes_set_aside(*models: type[Model]) -> Iterator[None]:
    """Drop the tables' indexes (not those of their primary keys and unique
    constraints) for the block and build them again after it, as they were.

    For tables loaded in bulk, and the products then updated row by row
    (their search documents and sort keys, once their variants and reviews
    are in): each row written to an indexed table writes to every index,
    GIN included, which at 200,000 products took minutes; building the
    indexes afterwards takes seconds. PostgreSQL only (DDL is transactional there, so a failure
    leaves them as they were); the table is locked until the transaction
    ends, which a seed of an empty catalog can afford."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes i WHERE tablename = ANY(%s) "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
            [[model._meta.db_table for model in models]])
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    yield
    with connection.cursor() as cursor:
        # PostgreSQL builds no index on a table with foreign key checks still
        # pending (Django's are deferred to the commit): run them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for _, definition in indexes:
            cursor.execute(definition)
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
