"""Between validation and execution: the variables, and graphql-core's
request errors (variables that do not coerce, an unknown operation), coded
BAD_USER_INPUT."""

from collections.abc import Iterable
from typing import Any

from graphql import GraphQLSchema
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

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


class Executor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, with the request errors graphql-core finds
    before execution (variables that do not coerce, an unknown operation)
    coded BAD_USER_INPUT, and without hints unless suggestions are on.

    A plain field (schema/plain_fields.py: a scalar read off its object, with
    no resolver, argument or rule of its own) is answered by reading it,
    without the resolver chain; anything unexpected takes the ordinary path.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.plain = _plain_fields_of(self.schema)

    def execute_field(self, parent_type: Any, source: Any, field_details_list: Any,
                      path: Any, position_context: Any) -> Any:
        fields = self.plain.get(parent_type.name)
        if fields is not None:
            plain = fields.get(field_details_list[0].node.name.value)
            if plain is not None:
                value = plain.read(source)
                if value is not MISSING:
                    return value
        return super().execute_field(parent_type, source, field_details_list, path,
                                     position_context)

    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> Any:
        kwargs["hide_suggestions"] = hide_suggestions()
        built = super().build(*args, **kwargs)
        if isinstance(built, list):
            return [with_code(error, BAD_USER_INPUT) for error in built]
        return built
