"""Between validation and execution: the variables, and graphql-core's
request errors (variables that do not coerce, an unknown operation), coded
BAD_USER_INPUT."""

from collections.abc import Iterable
from typing import Any

from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.errors import BAD_USER_INPUT, with_code
from schema.validation import MAX_INPUT_DEPTH, hide_suggestions


NUL = "\x00"


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
    coded BAD_USER_INPUT, and without hints unless suggestions are on."""

    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> Any:
        kwargs["hide_suggestions"] = hide_suggestions()
        built = super().build(*args, **kwargs)
        if isinstance(built, list):
            return [with_code(error, BAD_USER_INPUT) for error in built]
        return built
