"""Validation: the rules a document must pass, each coding its errors.

Every check costs time in proportion to the document (or to a fixed
budget), never to the document with its fragments expanded: a 1 KB document
whose fragments each spread the next one twice expands to billions of
fields, and must be refused as fast as any other. The shape limits run
first and abort the validation before graphql-core's rules start.

graphql-core's OverlappingFieldsCanBeMergedRule compares the fields that
share a response key pairwise, so it is quadratic in them (and repeats the
comparison for every pair of parents above them); it runs here with a
budget that real documents do not come near.
"""

import functools
from collections.abc import Iterable, Iterator
from typing import Any

from django.conf import settings
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OverlappingFieldsCanBeMergedRule,
    SelectionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    specified_rules,
    validate,
)
from graphql.language import ValueNode, VisitorAction
from graphql.validation.validate import ValidationAbortedError
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from schema.errors import VALIDATION_FAILED, with_code

# Lists and input objects nested deeper than this, inline or in the
# variables (schema/executor.py), are refused: no input of the schema nests
# past a handful, and coercing each level costs graphql-core stack frames.
MAX_INPUT_DEPTH = 32


# --- The shape of a document ----------------------------------------------------------


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }


def _nested(selection: SelectionNode) -> SelectionSetNode | None:
    """The selection set of a field or an inline fragment."""
    if isinstance(selection, (FieldNode, InlineFragmentNode)):
        return selection.selection_set
    return None


class _Extents:
    """The depth and the number of aliases of each fragment, each computed
    once however often it is spread.

    A fragment on a cycle (refused by NoFragmentCyclesRule) adds nothing
    where it spreads back into itself.
    """

    def __init__(self, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.memo: dict[str, tuple[int, int]] = {}
        self.cyclic: set[str] = set()
        self._resolve_all()

    def _spreads(self, selection_set: SelectionSetNode) -> Iterator[str]:
        stack = [selection_set]
        while stack:
            for selection in stack.pop().selections:
                if isinstance(selection, FragmentSpreadNode):
                    if selection.name.value in self.fragments:
                        yield selection.name.value
                elif (nested := _nested(selection)) is not None:
                    stack.append(nested)

    def _resolve_all(self) -> None:
        # Depth first over the spreads, without recursion: fragments may
        # chain hundreds deep.
        for root in self.fragments:
            if root in self.memo:
                continue
            path = [(root, self._spreads(self.fragments[root].selection_set))]
            on_path = {root: 0}
            while path:
                name, spreads = path[-1]
                for spread in spreads:
                    if spread in on_path:
                        self.cyclic.update(n for n, _ in path[on_path[spread]:])
                    elif spread not in self.memo:
                        on_path[spread] = len(path)
                        path.append((spread, self._spreads(self.fragments[spread].selection_set)))
                        break
                else:
                    path.pop()
                    del on_path[name]
                    self.memo[name] = self.measure(self.fragments[name].selection_set)

    def measure(self, selection_set: SelectionSetNode) -> tuple[int, int]:
        """(depth, aliases) of a selection set: how many levels of fields lie
        below its own (introspection fields not counted, as strawberry's
        QueryDepthLimiter did), and its aliases with every spread expanded."""
        depth, aliases = 0, 0
        stack = [(selection_set, 0)]
        while stack:
            current, level = stack.pop()
            for selection in current.selections:
                if isinstance(selection, FieldNode):
                    depth = max(depth, level)
                    aliases += selection.alias is not None
                    if selection.selection_set is None:
                        continue
                    if selection.name.value.startswith("__"):
                        aliases += self.measure(selection.selection_set)[1]
                    else:
                        stack.append((selection.selection_set, level + 1))
                elif isinstance(selection, InlineFragmentNode):
                    stack.append((selection.selection_set, level))
                elif isinstance(selection, FragmentSpreadNode):
                    fragment_depth, fragment_aliases = self.memo.get(selection.name.value, (0, 0))
                    depth = max(depth, level + fragment_depth)
                    aliases += fragment_aliases
        return depth, aliases


def _over(limit: int, count: int) -> str:
    return str(count) if count < 10 * limit else f"More than {10 * limit}"


def _expands_past(operation: OperationDefinitionNode, extents: _Extents, limit: int) -> bool:
    """Whether the operation has more than `limit` selections (fields and
    spreads) once every spread is replaced by its fragment.

    The walk stops at the limit, so it costs at most `limit` steps however
    far the document would expand.
    """
    steps = 0
    pending = [operation.selection_set]
    while pending:
        for selection in pending.pop().selections:
            steps += 1
            if steps > limit:
                return True
            if isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in extents.fragments and name not in extents.cyclic:
                    pending.append(extents.fragments[name].selection_set)
            elif (nested := _nested(selection)) is not None:
                pending.append(nested)
    return False


def _values(document: DocumentNode) -> Iterator[ValueNode]:
    """The argument values and variable defaults of a document."""
    stack: list[Any] = list(document.definitions)
    while stack:
        node = stack.pop()
        for directive in node.directives or ():
            yield from (argument.value for argument in directive.arguments or ())
        if isinstance(node, FieldNode):
            yield from (argument.value for argument in node.arguments or ())
        for definition in getattr(node, "variable_definitions", None) or ():
            if definition.default_value is not None:
                yield definition.default_value
            stack.append(definition)
        selection_set = getattr(node, "selection_set", None)
        if selection_set is not None:
            stack.extend(selection_set.selections)


def _input_too_deep(document: DocumentNode, max_depth: int) -> ValueNode | None:
    """The first list or input object literal nested deeper than max_depth."""
    stack = [(value, 1) for value in _values(document)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, ListValueNode):
            children: Iterable[ValueNode] = value.values
        elif isinstance(value, ObjectValueNode):
            children = (field.value for field in value.fields)
        else:
            continue
        if depth > max_depth:
            return value
        stack.extend((child, depth + 1) for child in children)
    return None


@functools.cache
def shape_limits(*, max_depth: int, max_aliases: int, max_selections: int) -> type[ValidationRule]:
    """The rule for these limits, built once: the same class every time lets
    the validation cache recognise a document it has validated.

    It checks the whole document when the validation starts and aborts it
    at the first limit passed, so that no other rule spends time on it.
    """

    class ShapeLimits(ValidationRule):
        def enter_document(self, node: DocumentNode, *_args: Any) -> VisitorAction:
            for message, nodes in self.errors(node):
                raise with_code(ValidationAbortedError(message, nodes), VALIDATION_FAILED)
            return None

        @staticmethod
        def errors(document: DocumentNode) -> Iterator[tuple[str, Any]]:
            deep_value = _input_too_deep(document, MAX_INPUT_DEPTH)
            if deep_value is not None:
                yield f"Input values nest at most {MAX_INPUT_DEPTH} deep.", [deep_value]
            extents = _Extents(_fragments(document))
            for operation in document.definitions:
                if not isinstance(operation, OperationDefinitionNode):
                    continue
                name = operation.name.value if operation.name else "anonymous"
                depth, aliases = extents.measure(operation.selection_set)
                if depth > max_depth:
                    yield f"'{name}' exceeds maximum operation depth of {max_depth}", [operation]
                if aliases > max_aliases:
                    yield (
                        f"{_over(max_aliases, aliases)} aliases found. Allowed: {max_aliases}",
                        [operation],
                    )
                if _expands_past(operation, extents, max_selections):
                    yield (
                        f"'{name}' has more than {max_selections} selections once its "
                        "fragments are expanded.",
                        [operation],
                    )

    return ShapeLimits


# --- Validation -----------------------------------------------------------------------


class _CodedContext:
    """The validation context as one rule sees it: what the rule reports
    carries the rule's code."""

    def __init__(self, context: ValidationContext, code: str) -> None:
        self._context = context
        self._code = code

    def __getattr__(self, name: str) -> Any:
        # Looked up once: the rules call the context's methods for every node.
        value = getattr(self._context, name)
        setattr(self, name, value)
        return value

    def report_error(self, error: GraphQLError) -> None:
        self._context.report_error(with_code(error, self._code))


@functools.cache
def coded(rule: type[ValidationRule], code: str = VALIDATION_FAILED) -> type[ValidationRule]:
    """`rule`, tagging the errors it reports with `code`."""

    def __init__(self: ValidationRule, context: ValidationContext) -> None:
        rule.__init__(self, _CodedContext(context, code))  # type: ignore[arg-type]

    return type(rule.__name__, (rule,), {"__init__": __init__, "__module__": __name__})


# Strawberry appends these two to the rules it is given.
STRAWBERRY_RULES = (MaybeNullValidationRule, OneOfInputValidationRule)


@functools.cache
def metered_overlap(budget: int) -> type[ValidationRule]:
    """OverlappingFieldsCanBeMergedRule with a smaller budget.

    graphql-core meters the comparisons the rule makes (a unit each, about
    2 µs) and aborts the validation when its budget, 500,000 by default, is
    spent: a second or more. Documents real clients send spend hundreds.
    """

    class MeteredOverlappingFields(OverlappingFieldsCanBeMergedRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.rule_context.remaining_complexity_budget = budget

        def enter_selection_set(self, *args: Any) -> None:
            try:
                super().enter_selection_set(*args)
            except ValidationAbortedError:
                raise with_code(
                    ValidationAbortedError(
                        "The document's fields take too many comparisons to merge."
                    ),
                    VALIDATION_FAILED,
                ) from None

    return MeteredOverlappingFields


@functools.cache
def validation_rules(
    *limits: type[ValidationRule], merge_budget: int
) -> tuple[type[ValidationRule], ...]:
    """The limits first (they abort before the costly rules start), then
    the specification's rules and strawberry's, each coded."""
    spec = (
        metered_overlap(merge_budget) if rule is OverlappingFieldsCanBeMergedRule else rule
        for rule in specified_rules
    )
    return tuple(coded(rule) for rule in (*limits, *spec, *STRAWBERRY_RULES))


@functools.lru_cache(maxsize=512)
def validate_document(
    schema: GraphQLSchema,
    document: DocumentNode,
    rules: tuple[type[ValidationRule], ...],
    hide_suggestions: bool,
) -> list[GraphQLError]:
    errors = validate(schema, document, rules, hide_suggestions=hide_suggestions)
    # The "too many errors" notice is graphql-core's, not a rule's.
    return [with_code(error, VALIDATION_FAILED) for error in errors]


def operation_count(document: DocumentNode) -> int:
    return sum(isinstance(d, OperationDefinitionNode) for d in document.definitions)


def hide_suggestions() -> bool:
    """graphql-core's "did you mean" hints map the schema for a prober."""
    return not settings.GRAPHQL_FIELD_SUGGESTIONS
