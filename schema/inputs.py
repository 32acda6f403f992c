"""What the client sent. Strawberry marks an input field or argument left out
as UNSET (null is None): services take only the fields given, so that "left
out" keeps a value and "null" clears it."""

from dataclasses import is_dataclass
from typing import Any

from strawberry import UNSET


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if is_dataclass(value) and not isinstance(value, type):  # a nested input object
        return provided(value)
    return value


def provided(data: object) -> dict[str, Any]:
    """The fields of an input object the client sent (null included), as plain
    Python: nested inputs become dicts, lists stay lists."""
    return sent(**vars(data))


def sent(**arguments: Any) -> dict[str, Any]:
    """The arguments the client sent (null included), e.g.
    `sent(alt=alt, position=position)`."""
    return {name: _plain(value) for name, value in arguments.items() if value is not UNSET}
