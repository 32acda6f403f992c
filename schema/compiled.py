"""Compiled plans: a sub-tree of a document's selection answered by a tree
of readers built once per operation, instead of graphql-core's per-field
`execute_field`, `complete_value`, Path and info.

After the plain fields and the direct resolvers (schema/plain_fields.py,
schema/direct_fields.py), what a product listing still paid per field was
graphql-core's: for each of the ~800 object and resolver fields of a page an
`execute_field`, an info object, the `complete_value` dispatch, a grouped
field set looked up and `execute_fields` run again for every row.

A field is compiled when everything under it is known to answer without
graphql-core's help: each field in it is plain, a direct read or call
(schema/direct_fields.py: no argument, no field extension, so no rule) or
`__typename`, on concrete object types (no interface or union to resolve),
with no directive but `@skip`/`@include` (decided as graphql-core decides
them when the plan is built; the plan is kept per value of the variables
they read) and no `@defer`/`@stream`. `Executor.execute_fields` then
answers it with `reader(executor, source, path)`: a loop building dicts.

Whatever is not as expected on the way (a null in a non-null field, a
value its scalar refuses or serialises to null, a missing attribute or an
uncached relation, an awaitable, an exception, `is_type_of` saying no, a
list that is not a list or tuple) raises Fallback, and the executor
executes that field the ordinary way from the start, which answers exactly
as before, errors included. The readers have no effects but the resolvers'
own, which direct calls keep pure (`async_safe`: they never query), so
reading a field twice is reading it once.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from types import CoroutineType, GeneratorType
from typing import Any

from graphql import (
    DirectiveNode,
    GraphQLBoolean,
    GraphQLString,
    FieldNode,
    FragmentSpreadNode,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Undefined,
    VariableNode,
    is_leaf_type,
)
from graphql.pyutils import Path

from strawberry.relay.utils import to_base64

from schema.direct_fields import DirectCall
from schema.plain_fields import MISSING, PlainField, PlainFields

# A value read is answered as it is when its type is one of these (nothing
# to await, no exception); any other is checked first, and its class joins
# them when no instance of it can be either (schema/compiled.py's _settle).
_SETTLED: set[type] = {type(None), bool, int, float, str, list, tuple, dict}
MAX_SETTLED = 4096
MAX_OPERATIONS = 512


class Fallback(Exception):
    """The compiled reading stops: the field is executed the ordinary way."""


# (executor, parent object, parent's path) -> the field's answer
Reader = Callable[[Any, Any, Path | None], Any]
# (executor, value, the field's path, the field's info) -> the value's answer
Completer = Callable[[Any, Any, Path | None, Any], Any]


class _OperationPlans:
    """The compiled fields of one operation, by the variables' values that
    its @skip/@include read."""

    def __init__(self, operation: OperationDefinitionNode, schema: Any,
                 fragments: dict[str, Any]) -> None:
        self.operation = operation  # kept: the key is its id
        self.schema = schema
        self.variables = _directive_variables(operation, fragments)
        self.by_values: dict[tuple[Any, ...], dict[tuple[Any, ...], Reader | None]] = {}


_OPERATIONS: OrderedDict[int, _OperationPlans] = OrderedDict()


def readers_of(executor: Any) -> dict[tuple[Any, ...], Reader | None] | None:
    """The compiled fields of the executor's operation for its variables'
    values (None: the operation cannot be compiled)."""
    operation = executor.operation
    plans = _OPERATIONS.get(id(operation))
    if plans is None or plans.operation is not operation or plans.schema is not executor.schema:
        plans = _OperationPlans(operation, executor.schema, executor.fragments)
        _OPERATIONS[id(operation)] = plans
        while len(_OPERATIONS) > MAX_OPERATIONS:
            _OPERATIONS.popitem(last=False)
    if plans.variables is None:
        return None
    coerced = executor.variable_values.coerced
    values = tuple(coerced.get(name, Undefined) for name in plans.variables)
    readers = plans.by_values.get(values)
    if readers is None:
        readers = plans.by_values[values] = {}
    return readers


def compiled_field(executor: Any, readers: dict[tuple[Any, ...], Reader | None],
                   plain: PlainFields, parent_type: GraphQLObjectType,
                   field_details_list: Any) -> Reader | None:
    """The reader of this field of the operation, built the first time."""
    key = (parent_type.name, *(id(details.node) for details in field_details_list))
    try:
        return readers[key]
    except KeyError:
        pass
    compiled = _Compiler(executor, plain).field(parent_type, field_details_list)
    reader = readers[key] = None if compiled is None else compiled[0]
    return reader


_DIRECTIVES: OrderedDict[int, tuple[OperationDefinitionNode, tuple[str, ...] | None]] = (
    OrderedDict())


def directive_variables(operation: OperationDefinitionNode,
                        fragments: dict[str, Any]) -> tuple[str, ...] | None:
    """_directive_variables, once per operation (schema/optimizer.py asks on
    every request)."""
    known = _DIRECTIVES.get(id(operation))
    if known is not None and known[0] is operation:
        return known[1]
    found = _directive_variables(operation, fragments)
    _DIRECTIVES[id(operation)] = (operation, found)
    while len(_DIRECTIVES) > MAX_OPERATIONS:
        _DIRECTIVES.popitem(last=False)
    return found


def _directive_variables(operation: OperationDefinitionNode,
                         fragments: dict[str, Any]) -> tuple[str, ...] | None:
    """The variables the operation's @skip and @include read, in order; None
    when it has another directive in its selections, or a fragment with
    variables of its own. `fragments`: graphql-core's fragment details (the
    executor's) or their definitions (an info's)."""
    names: list[str] = []
    seen: set[str] = set()
    stack: list[SelectionSetNode] = [operation.selection_set]
    for details in fragments.values():
        definition = getattr(details, "definition", details)
        if getattr(details, "variable_signatures", None) or getattr(
            definition, "variable_definitions", None
        ):
            return None
        stack.append(definition.selection_set)
    while stack:
        for selection in stack.pop().selections:
            for directive in selection.directives or ():
                found = _skip_include_variable(directive)
                if found is None:
                    return None
                if found and found not in seen:
                    seen.add(found)
                    names.append(found)
            if isinstance(selection, (FieldNode, InlineFragmentNode)) and selection.selection_set:
                stack.append(selection.selection_set)
            elif not isinstance(selection, (FieldNode, InlineFragmentNode, FragmentSpreadNode)):
                return None
    return tuple(names)


def _skip_include_variable(directive: DirectiveNode) -> str | None:
    """The variable an @skip or @include reads ("" for a literal); None for
    any other directive."""
    if directive.name.value not in ("skip", "include"):
        return None
    for argument in directive.arguments or ():
        if isinstance(argument.value, VariableNode):
            return argument.value.name.value
    return ""


def _settle(executor: Any, value: Any) -> None:
    """Fall back for a value graphql-core would not complete as it is: an
    exception, or an awaitable (a coroutine is closed unstarted: the ordinary
    path calls its resolver again). A class whose instances are never either
    (not an exception, no `__await__`, not a generator, which may be a
    coroutine by its flags) is not checked again."""
    if isinstance(value, Exception):
        raise Fallback
    if executor.is_awaitable(value):
        if isinstance(value, CoroutineType):
            value.close()
        raise Fallback
    cls = type(value)
    if (not isinstance(value, GeneratorType) and not hasattr(cls, "__await__")
            and len(_SETTLED) < MAX_SETTLED):
        _SETTLED.add(cls)


class _Compiler:
    """Builds the readers of one field and everything under it."""

    def __init__(self, executor: Any, plain: PlainFields) -> None:
        self.executor = executor
        self.plain = plain

    def field(self, parent_type: GraphQLObjectType, field_details_list: Any
              ) -> tuple[Reader, bool] | None:
        """The field's reader and whether it needs its parent's path."""
        first = field_details_list[0].node
        name = first.name.value
        if any(details.defer_usage is not None or details.fragment_variable_values is not None
               or details.node.arguments for details in field_details_list):
            return None
        if name == "__typename":
            type_name = parent_type.name
            return (lambda executor, source, path: type_name), False
        field_def = parent_type.fields.get(name)
        if field_def is None or field_def.args:
            return None
        resolve = field_def.resolve
        direct_read = getattr(resolve, "direct_read", None)
        direct_call = getattr(resolve, "call", None)
        if direct_read is None and direct_call is None:
            return None
        completed = self.completer(field_def.type, field_details_list)
        if completed is None:
            return None
        complete, needs_path, needs_info = completed
        get: Callable[[Any, Any, Any], Any]
        if direct_read is not None:
            def get(executor: Any, source: Any, info: Any) -> Any:
                value = direct_read(source)
                if value is MISSING:
                    raise Fallback
                return value
        else:
            assert direct_call is not None
            get = _context_only_call(direct_call)
        needs_path = needs_path or needs_info
        response_name = (first.alias or first.name).value
        type_name = parent_type.name
        nodes = [details.node for details in field_details_list]

        def read(executor: Any, source: Any, parent_path: Path | None) -> Any:
            path = Path(parent_path, response_name, type_name) if needs_path else None
            info = (executor.build_resolve_info(field_def, list(nodes), parent_type, path)
                    if needs_info else None)
            value = get(executor, source, info)
            if type(value) not in _SETTLED:
                _settle(executor, value)
            return complete(executor, value, path, info)

        return read, needs_path

    def completer(self, return_type: Any, field_details_list: Any
                  ) -> tuple[Completer, bool, bool] | None:
        """How to complete a value of this type, whether that needs the
        field's path, and whether it needs the field's info."""
        if isinstance(return_type, GraphQLNonNull):
            inner = self.completer(return_type.of_type, field_details_list)
            if inner is None:
                return None
            complete_inner = inner[0]

            def complete_non_null(executor: Any, value: Any, path: Path | None,
                                  info: Any) -> Any:
                completed = complete_inner(executor, value, path, info)
                if completed is None:
                    raise Fallback
                return completed

            return complete_non_null, inner[1], inner[2]
        if isinstance(return_type, GraphQLList):
            return self.list_completer(return_type, field_details_list)
        if is_leaf_type(return_type):
            return _leaf_completer(return_type.coerce_output_value), False, False
        if isinstance(return_type, GraphQLObjectType):
            return self.object_completer(return_type, field_details_list)
        return None  # an interface or a union: resolve_type is graphql-core's

    def list_completer(self, return_type: GraphQLList[Any], field_details_list: Any
                       ) -> tuple[Completer, bool, bool] | None:
        inner = self.completer(return_type.of_type, field_details_list)
        if inner is None:
            return None
        complete_item, needs_path, needs_info = inner

        def complete_list(executor: Any, value: Any, path: Path | None, info: Any) -> Any:
            if value is None or value is Undefined:
                return None
            kind = type(value)
            if kind is not list and kind is not tuple:
                raise Fallback
            completed: list[Any] = []
            append = completed.append
            for index, item in enumerate(value):
                if type(item) not in _SETTLED:
                    _settle(executor, item)
                append(complete_item(executor, item,
                                     Path(path, index, None) if needs_path else None, info))
            return completed

        return complete_list, needs_path, needs_info

    def object_completer(self, object_type: GraphQLObjectType, field_details_list: Any
                         ) -> tuple[Completer, bool, bool] | None:
        grouped, defers, _ = self.executor.collect_subfields(object_type, field_details_list)
        if defers:
            return None
        plain = self.plain.get(object_type.name) or {}
        entries: list[tuple[str, PlainField | None, Reader | None]] = []
        needs_path = False
        for response_name, sub_details in grouped.items():
            plain_field = plain.get(sub_details[0].node.name.value)
            if plain_field is not None and not any(
                details.node.arguments or details.defer_usage is not None
                or details.fragment_variable_values is not None for details in sub_details
            ):
                entries.append((response_name, plain_field, None))
                continue
            compiled = self.field(object_type, sub_details)
            if compiled is None:
                return None
            entries.append((response_name, None, compiled[0]))
            needs_path = needs_path or compiled[1]
        is_type_of = object_type.is_type_of
        context_only = is_type_of is not None and reads_only_context(is_type_of)
        # Per class of value met: its fields' plan (None: a plain field is
        # not a read of __dict__ for that class, so the ordinary path).
        by_class: dict[type, list[tuple[Any, ...]] | None] = {}

        def complete_object(executor: Any, value: Any, path: Path | None, info: Any) -> Any:
            if value is None or value is Undefined:
                return None
            if is_type_of is not None and is_type_of(
                value, executor.context_only_info if context_only else info
            ) is not True:
                raise Fallback
            cls = type(value)
            try:
                fields = by_class[cls]
            except KeyError:
                fields = by_class[cls] = _class_plan(entries, cls)
            if fields is None:
                raise Fallback
            result = {}
            attributes = value.__dict__
            for response_name, attname, serialize, exact, non_null, node_type, read in fields:
                if read is not None:
                    result[response_name] = read(executor, value, path)
                    continue
                answer = attributes.get(attname, MISSING)
                if answer is None:
                    if non_null:
                        raise Fallback
                elif answer is MISSING:
                    raise Fallback
                elif node_type is not None:
                    answer = to_base64(node_type, str(answer))
                elif type(answer) is not exact:
                    try:
                        answer = serialize(answer)
                    except Exception as error:
                        raise Fallback from error
                    if answer is None or answer is Undefined:
                        raise Fallback
                result[response_name] = answer
            return result

        return complete_object, needs_path, is_type_of is not None and not context_only


def _class_plan(entries: list[tuple[str, PlainField | None, Reader | None]], cls: type
                ) -> list[tuple[Any, ...]] | None:
    """The fields of an object of this class, each plain one as what
    PlainField.read does for it, inline: its attribute, its serialiser and
    the type whose values that serialiser returns unchanged."""
    fields: list[tuple[Any, ...]] = []
    for response_name, plain_field, read in entries:
        if plain_field is None:
            fields.append((response_name, None, None, None, False, None, read))
            continue
        if not plain_field.is_plain_for(cls):
            return None
        fields.append((response_name, plain_field.attname, plain_field.serialize,
                       _UNCHANGED.get(plain_field.serialize, _NOTHING), plain_field.non_null,
                       plain_field.node_type, None))
    return fields


class _Nothing:
    """No value is of this type: the serialiser is always called."""


_NOTHING = _Nothing
# Serialisers that return a value of exactly this type as it is (graphql-core's
# String and Boolean check the type, then answer the value itself).
_UNCHANGED: dict[Any, type] = {GraphQLString.serialize: str, GraphQLBoolean.serialize: bool}


class ContextOnlyInfo:
    """What a type check that reads nothing of its info but the context is
    given: the request's context, without a path or an info per row."""

    __slots__ = ("context",)

    def __init__(self, context: Any) -> None:
        self.context = context


def reads_only_context(is_type_of: Any) -> bool:
    """Whether this type check reads nothing of its info but `context`:
    strawberry-django's own (an isinstance of the model or the type, when no
    base type has a check of its own), or one marked so (schema/cacheable.py
    wraps the catalog's)."""
    marked = getattr(is_type_of, "reads_only_context", None)
    if marked is not None:
        return bool(marked)
    func = getattr(is_type_of, "__func__", None)
    owner = getattr(is_type_of, "__self__", None)
    if func is None or not isinstance(owner, type) or func.__module__ != "strawberry_django.type":
        return False
    return func.__name__ == "is_type_of" and getattr(super(owner, owner), "is_type_of",
                                                      None) is None


def _context_only_call(call: DirectCall) -> Callable[[Any, Any, Any], Any]:
    """A direct call (schema/direct_fields.py) whose info is one per field
    and request, carrying the context alone: the card resolvers read nothing
    else of it, and one that did would raise, which falls back to the
    ordinary path and its full info. So no path and no info per row."""
    func, with_self, roots, info_name = call.func, call.with_self, call.roots, call.info_name
    field, info_class = call.field, call.info_class

    def get(executor: Any, source: Any, _: Any) -> Any:
        kwargs = dict.fromkeys(roots, source)
        if info_name is not None:
            infos = executor.context_only_infos
            info = infos.get(field)
            if info is None:
                info = infos[field] = info_class(_raw_info=executor.context_only_info,
                                                 _field=field)
            kwargs[info_name] = info
        return func(source, **kwargs) if with_self else func(**kwargs)

    return get


def _leaf_completer(coerce: Callable[[Any], Any]) -> Completer:
    def complete_leaf(executor: Any, value: Any, path: Path | None, info: Any) -> Any:
        if value is None or value is Undefined:
            return None
        try:
            coerced = coerce(value)
        except Exception as error:
            raise Fallback from error
        if coerced is None or coerced is Undefined:
            raise Fallback
        return coerced

    return complete_leaf
