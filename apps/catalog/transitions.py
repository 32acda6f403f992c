"""A product's life as a state machine: its states, the moves, and where each
move leads from each state it is allowed from. Pure data and functions, no
database: apps.catalog.services.lifecycle applies a move to the rows.

A deleted product remembers whether it was published, so restoring it brings
it back as it was; that is why deletion has two states. A move not in the
table is refused (a deleted product is NOT_FOUND to every move but restore).
"""

from collections.abc import Mapping
from enum import StrEnum


class State(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    DELETED_DRAFT = "deleted_draft"
    DELETED_PUBLISHED = "deleted_published"


class Move(StrEnum):
    PUBLISH = "publish"
    UNPUBLISH = "unpublish"
    DELETE = "delete"
    RESTORE = "restore"


TRANSITIONS: Mapping[Move, Mapping[State, State]] = {
    Move.PUBLISH: {State.DRAFT: State.PUBLISHED},
    Move.UNPUBLISH: {State.PUBLISHED: State.DRAFT},
    Move.DELETE: {State.DRAFT: State.DELETED_DRAFT, State.PUBLISHED: State.DELETED_PUBLISHED},
    Move.RESTORE: {State.DELETED_DRAFT: State.DRAFT, State.DELETED_PUBLISHED: State.PUBLISHED},
}

DELETED = frozenset({State.DELETED_DRAFT, State.DELETED_PUBLISHED})


def state_of(*, is_published: bool, deleted: bool) -> State:
    if deleted:
        return State.DELETED_PUBLISHED if is_published else State.DELETED_DRAFT
    return State.PUBLISHED if is_published else State.DRAFT


def sources(move: Move) -> frozenset[State]:
    """The states `move` is allowed from."""
    return frozenset(TRANSITIONS[move])


def target(state: State, move: Move) -> State | None:
    """Where `move` leads from `state`; None when it is not allowed there."""
    return TRANSITIONS[move].get(state)
