"""Which catalog reads may use a read replica (apps.core.replicas routes them).

A query goes to a replica when every root field is the catalog's (the
response cache's rule, schema/cacheable.py: products, categories, their
lookups, and `node` of a product or category), the caller is anonymous or
a customer (staff read the primary: catalog managers see unpublished work
they may have just saved), and the client sent no mutation lately. A
mutation marks its client as having written. Subscriptions and anything
else read the primary.
"""

import hashlib
from collections.abc import AsyncIterator
from typing import Any

from asgiref.sync import sync_to_async
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from apps.core import replicas
from schema import cacheable, response_cache
from schema.cost_limits import client_key


def _catalog_read(context: Any) -> bool:
    if context.graphql_document is None or not context.query:
        return False
    document = hashlib.sha256(context.query.encode()).hexdigest()
    shape = response_cache.operation_shape(context, document)
    return shape is not None and cacheable.node_tags(shape, context.variables, {}) is not None


class ReplicaReads(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        client = client_key(context.context)
        if not replicas.enabled() or client is None:
            yield
            return
        try:
            operation_type = context.operation_type
        except Exception:  # noqa: BLE001 - no operation to run: nothing is read
            operation_type = None
        if operation_type is OperationType.MUTATION:
            yield
            await sync_to_async(replicas.note_client_wrote)(client=client)
            return
        user = getattr(context.context, "user", None)
        alias = None
        if (operation_type is OperationType.QUERY and not getattr(user, "is_staff", False)
                and _catalog_read(context)):
            alias = await sync_to_async(replicas.replica_for_catalog_read)(client=client)
        if alias is None:
            yield
            return
        with replicas.reading_from_replica(alias):
            yield


def replica_reads() -> SchemaExtension:
    """The extension, per operation, when there are replicas; else one with
    no hooks (so a server without replicas runs nothing of it, and
    `execute_sync` keeps working: this hook is async)."""
    return ReplicaReads() if replicas.enabled() else SchemaExtension()
