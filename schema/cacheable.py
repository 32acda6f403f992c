"""Which documents the response cache may keep, and what their answers show.

A document is cacheable when the operation it runs is a query whose every
root field is one of CATALOG_ROOTS (or `node`, whose answer is kept only when
its id names a product or a category) and whose selections stay on the catalog's
own types (which hold nothing personal: what a product, category or review
shows is the same for every customer), minus `ProductVariant.stocks` (staff
only, and about warehouses, whose changes no catalog event tells). The walk
is of the document, made once per document and operation, so it is a
superset of what any answer selects (`@include`/`@skip` are ignored).

What an answer shows is tagged (apps.catalog.cache): the document gives the
list tags, and the products, categories and reviews in the answer give their
own as they are completed (graphql-core asks each object's type whether the
object is its own, `is_type_of`, which is where they are noted).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    StringValueNode,
    VariableNode,
    get_named_type,
)
from strawberry import relay

from apps.catalog import cache as tags
from schema.compiled import reads_only_context

# Root field -> the list tag its answer depends on, when it found nothing
# (a slug lookup) or always (a list).
CATALOG_ROOTS = {
    "products": tags.PRODUCTS,
    "product": tags.PRODUCTS,
    "categories": tags.CATEGORIES,
    "category": tags.CATEGORIES,
}
ALWAYS_LISTS = {"products", "categories"}
# `node(id:)` is the catalog's only for these types, and an answer is kept
# only when its id names one of them (a customer's order, say, is personal):
# id type -> the list tag of a null answer. Not a variant: the optimizer
# loads a variant looked up alone without its product's column, which is
# what would tag the answer.
NODE_TYPES = {
    "Product": tags.PRODUCTS,
    "Category": tags.CATEGORIES,
}
NEVER_CACHED = {("ProductVariant", "stocks")}
# (type, field) -> the list tags an answer selecting it depends on.
FIELD_TAGS = {
    ("Category", "parent"): (tags.CATEGORIES,),
    ("Category", "children"): (tags.CATEGORIES,),
    ("Category", "ancestors"): (tags.CATEGORIES,),
    ("Category", "products"): (tags.CATEGORIES, tags.PRODUCTS),
    ("Category", "productCount"): (tags.CATEGORIES, tags.PRODUCTS),
}
STOCK_FIELDS = {("ProductVariant", "quantityAvailable")}
CATALOG_TYPES = {
    "Query", "Node", "Product", "ProductVariant", "Category", "ProductMedia", "Review",
    "ProductConnection", "ProductEdge", "CategoryConnection", "CategoryEdge",
    "ReviewConnection", "ReviewEdge", "PageInfo", "Rating", "RatingCount", "PriceRange",
    "Money", "Image", "ProductAttribute", "VariantOption",
}


@dataclass(frozen=True)
class Shape:
    """What a cacheable operation's answers depend on, beyond the objects
    they show."""

    tags: frozenset[str]
    # (response key, root field) of the slug lookups, tagged when null.
    lookups: tuple[tuple[str, str], ...]
    shows_stock: bool
    # (response key, the id as written, or the name of its variable) of each
    # `node` lookup: the id's type decides, per answer, whether it is kept.
    nodes: tuple[tuple[str, str | None, str | None], ...] = ()


@dataclass
class Shown:
    """The objects an answer being built shows, noted while it is completed."""

    tags: set[str] = field(default_factory=set)
    product_ids: set[int] = field(default_factory=set)
    # An object the tagging did not recognise: never store the answer.
    unknown: bool = False


def shape_of(schema: GraphQLSchema, document: DocumentNode,
             operation_name: str | None) -> Shape | None:
    """The operation's Shape, or None when its answers must not be cached."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1 or operations[0].operation is not OperationType.QUERY:
        return None
    operation = operations[0]
    fragments = {d.name.value: d for d in document.definitions
                 if isinstance(d, FragmentDefinitionNode)}
    found: set[str] = set()
    lookups: list[tuple[str, str]] = []
    nodes: list[tuple[str, str | None, str | None]] = []
    roots = _fields(operation.selection_set, schema.query_type, schema, fragments)
    if roots is None:
        return None
    for _parent, node in roots:
        name = node.name.value
        if name == "__typename":
            continue
        if name == "node":
            node_id = _node_id(node)
            if node_id is None:
                return None
            nodes.append(((node.alias or node.name).value, *node_id))
            continue
        if name not in CATALOG_ROOTS:
            return None
        if name in ALWAYS_LISTS:
            found.add(CATALOG_ROOTS[name])
        else:
            lookups.append(((node.alias or node.name).value, name))
    walked = _walk(operation.selection_set, schema.query_type, schema, fragments)
    if walked is None:
        return None
    field_tags, shows_stock = walked
    return Shape(tags=frozenset(found | field_tags), lookups=tuple(lookups),
                 shows_stock=shows_stock, nodes=tuple(nodes))


def _node_id(node: FieldNode) -> tuple[str | None, str | None] | None:
    """(the id as written, or its variable's name) of a `node` field."""
    for argument in node.arguments or ():
        if argument.name.value != "id":
            continue
        if isinstance(argument.value, StringValueNode):
            return argument.value.value, None
        if isinstance(argument.value, VariableNode):
            return None, argument.value.name.value
    return None


def node_tags(shape: Shape, variables: dict[str, Any] | None,
              data: dict[str, Any]) -> set[str] | None:
    """The list tags of the shape's `node` lookups in this answer, or None
    when one of their ids is not a catalog type's (the answer is not kept)."""
    found: set[str] = set()
    for response_key, literal, variable in shape.nodes:
        value = literal if variable is None else (variables or {}).get(variable)
        try:
            type_name = relay.GlobalID.from_id(value).type_name if isinstance(value, str) else ""
        except (relay.GlobalIDValueError, ValueError, TypeError):
            return None
        if type_name not in NODE_TYPES:
            return None
        if data.get(response_key) is None:
            found.add(NODE_TYPES[type_name])
    return found


def _fields(selection_set: SelectionSetNode, parent: Any, schema: GraphQLSchema,
            fragments: dict[str, FragmentDefinitionNode],
            ) -> list[tuple[Any, FieldNode]] | None:
    """The fields a selection set selects, through its fragments, each with
    the type it is selected on; None when a fragment names an unknown type."""
    fields = []
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            fields.append((parent, selection))
            continue
        if isinstance(selection, FragmentSpreadNode):
            fragment: Any = fragments.get(selection.name.value)
            if fragment is None:
                return None
        else:
            assert isinstance(selection, InlineFragmentNode)
            fragment = selection
        condition = parent if fragment.type_condition is None else (
            schema.type_map.get(fragment.type_condition.name.value))
        if condition is None:
            return None
        inner = _fields(fragment.selection_set, condition, schema, fragments)
        if inner is None:
            return None
        fields += inner
    return fields


def _walk(selection_set: SelectionSetNode, parent: Any, schema: GraphQLSchema,
          fragments: dict[str, FragmentDefinitionNode],
          depth: int = 0) -> tuple[set[str], bool] | None:
    """(list tags, whether stock is shown) of everything under the selection
    set, or None when something in it is not the catalog's."""
    if depth > 64:  # validation bounds depth long before this
        return None
    found: set[str] = set()
    shows_stock = False
    fields = _fields(selection_set, parent, schema, fragments)
    if fields is None:
        return None
    for owner, node in fields:
        name = node.name.value
        if name == "__typename":
            continue
        if not isinstance(owner, (GraphQLObjectType, GraphQLInterfaceType)):
            return None
        if owner.name not in CATALOG_TYPES or name.startswith("__"):
            return None
        definition = owner.fields.get(name)
        if definition is None or (owner.name, name) in NEVER_CACHED:
            return None
        found.update(FIELD_TAGS.get((owner.name, name), ()))
        shows_stock |= (owner.name, name) in STOCK_FIELDS
        if node.selection_set is not None:
            inner = _walk(node.selection_set, get_named_type(definition.type), schema,
                          fragments, depth + 1)
            if inner is None:
                return None
            found |= inner[0]
            shows_stock |= inner[1]
    return found, shows_stock


def _note_product(shown: Shown, product: Any) -> None:
    shown.tags.add(tags.product_tag(product.pk))
    shown.product_ids.add(product.pk)


def _note_category(shown: Shown, category: Any) -> None:
    shown.tags.add(tags.category_tag(category.pk))


def _note_review(shown: Shown, review: Any) -> None:
    # Reviews change with their product. The author's name is shown only
    # with the author loaded (authorName selects it); a deferred column
    # must not be read, which would query the database here.
    user_id = vars(review).get("user_id")
    if user_id is not None:
        shown.tags.add(tags.reviewer_tag(user_id))


NOTERS: dict[str, Callable[[Shown, Any], None]] = {
    "Product": _note_product,
    "Category": _note_category,
    "Review": _note_review,
}


def note_shown_objects(schema: GraphQLSchema, shown_of: Callable[[Any], Shown | None]) -> None:
    """Have the catalog's types note each object they complete in the
    Shown that `shown_of(info.context)` gives (None: nobody is noting)."""
    for name, note in NOTERS.items():
        graphql_type = schema.type_map[name]
        assert isinstance(graphql_type, GraphQLObjectType) and graphql_type.is_type_of
        graphql_type.is_type_of = _noting(graphql_type.is_type_of, note, shown_of)


def _noting(is_type_of: Callable, note: Callable[[Shown, Any], None],
            shown_of: Callable[[Any], Shown | None]) -> Callable:
    def noted(obj: Any, info: Any) -> Any:
        shown = shown_of(info.context)
        if shown is not None:
            try:
                note(shown, obj)
            except Exception:  # noqa: BLE001 - noting must never break an answer
                shown.unknown = True
        return is_type_of(obj, info)

    # schema/compiled.py passes a context alone when the check needs no more.
    noted.reads_only_context = reads_only_context(is_type_of)  # type: ignore[attr-defined]
    return noted
