"""Between validation and execution: the variables, and graphql-core's
request errors (variables that do not coerce, an unknown operation), coded
BAD_USER_INPUT."""

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from graphql import GraphQLSchema, Undefined
from graphql.pyutils import Path, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.compiled import ContextOnlyInfo, compiled_field, readers_of
from schema.errors import BAD_USER_INPUT, with_code
from schema.plain_fields import MISSING, PlainFields, plain_fields
from schema.validation import MAX_INPUT_DEPTH, hide_suggestions


NUL = "\x00"
_PLAIN_FIELDS: dict[int, tuple[GraphQLSchema, PlainFields]] = {}


def _plain_fields_of(schema: GraphQLSchema) -> PlainFields:
    """The schema's plain fields, found once per schema."""
    known = _PLAIN_FIELDS.get(id(schema))
    if known is None or known[0] is not schema:
        known = _PLAIN_FIELDS[id(schema)] = (schema, plain_fields(schema))
    return known[1]


def variables_error(values: Any, *, max_depth: int = MAX_INPUT_DEPTH) -> str | None:
    """Why these variable values are refused before coercion, if they are.

    PostgreSQL text cannot hold the NUL character (the client's mistake, not
    a database error in the middle of a write); values nested past
    max_depth are refused without recursion.
    """
    stack: list[tuple[Any, int]] = [(values, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if NUL in value:
                return "Strings cannot contain the NUL character."
            continue
        if not isinstance(value, (dict, list)):
            continue
        if depth > max_depth:
            return f"Input values nest at most {max_depth} deep."
        items: Iterable[Any] = value
        if isinstance(value, dict):
            items = [*value.keys(), *value.values()]
        stack.extend((item, depth + 1) for item in items)
    return None


async def _gathered(results: dict[str, Any], awaitable_fields: list[str]) -> dict[str, Any]:
    """The results, with the awaitables of these fields awaited (together)."""
    if len(awaitable_fields) == 1:
        results[awaitable_fields[0]] = await results[awaitable_fields[0]]
    else:
        awaited = await gather_with_cancel(*(results[name] for name in awaitable_fields))
        results.update(zip(awaitable_fields, awaited, strict=True))
    return results


class Executor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, with the request errors graphql-core finds
    before execution (variables that do not coerce, an unknown operation)
    coded BAD_USER_INPUT, and without hints unless suggestions are on.

    A plain field (schema/plain_fields.py: a scalar read off its object, with
    no resolver, argument or rule of its own) is answered by reading it,
    without the resolver chain or a Path; a compiled field (schema/compiled.py:
    everything under it plain or direct) by its reader, without graphql-core
    below it. Anything unexpected takes the ordinary path.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.plain = _plain_fields_of(self.schema)
        # Per grouped field set (graphql-core makes one per selection and
        # type, and reuses it for every row): its fields with their plain
        # reading or compiled reader, found once per operation. The set is
        # kept with its plan, so its id cannot be reused while the operation
        # runs.
        self._plans: dict[tuple[str, int], tuple[Any, list[tuple[str, Any, Any, Any]]]] = {}
        self._readers: Any = Undefined  # schema/compiled.py's, for this operation
        self.context_only_info = ContextOnlyInfo(self.context_value)
        self.context_only_infos: dict[Any, Any] = {}  # schema/compiled.py's, by field

    @property
    def readers(self) -> Any:
        """The operation's compiled readers (None: none are used)."""
        if self._readers is Undefined:
            middleware = self.middleware_manager
            self._readers = (readers_of(self) if settings.GRAPHQL_COMPILED_PLANS
                             and not (middleware and middleware.middlewares) else None)
        return self._readers

    def execute_fields(self, parent_type: Any, source_value: Any, path: Any,
                       grouped_field_set: Any, position_context: Any) -> Any:
        """graphql-core's execute_fields, with each plain field answered by
        reading it (before a Path is made for it) and each compiled one by
        its reader; anything else, a plain field whose reading is MISSING
        and a compiled one that falls back, is executed the ordinary way."""
        key = (parent_type.name, id(grouped_field_set))
        known = self._plans.get(key)
        if known is None:
            known = self._plans[key] = (grouped_field_set,
                                        self._plan(parent_type, grouped_field_set))
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for response_name, field_details_list, plain, compiled in known[1]:
                if plain is not None:
                    value = plain.read(source_value)
                    if value is not MISSING:
                        results[response_name] = value
                        continue
                elif compiled is not None:
                    try:
                        results[response_name] = compiled(self, source_value, path)
                        continue
                    except Exception:  # noqa: BLE001, S110 - Fallback, or the resolver's error: the ordinary path answers it
                        pass
                result = self.execute_field(parent_type, source_value, field_details_list,
                                            Path(path, response_name, parent_type.name),
                                            position_context)
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                # Settle the other fields' awaitables, which may fail too.
                self.settle_in_background([results[name] for name in awaitable_fields])
            raise
        if not awaitable_fields:
            return results
        return _gathered(results, awaitable_fields)

    def _plan(self, parent_type: Any, grouped_field_set: Any
              ) -> list[tuple[str, Any, Any, Any]]:
        fields = self.plain.get(parent_type.name) or {}
        readers = self.readers
        plan = []
        for response_name, field_details_list in grouped_field_set.items():
            plain = fields.get(field_details_list[0].node.name.value)
            compiled = None
            if plain is None and readers is not None:
                compiled = compiled_field(self, readers, self.plain, parent_type,
                                          field_details_list)
            plan.append((response_name, field_details_list, plain, compiled))
        return plan

    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> Any:
        kwargs["hide_suggestions"] = hide_suggestions()
        built = super().build(*args, **kwargs)
        if isinstance(built, list):
            return [with_code(error, BAD_USER_INPUT) for error in built]
        return built
