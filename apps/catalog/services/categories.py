"""Category writes: the tree (parent and position among siblings) and the rule
that a category still selling something cannot be deleted.

Every write here takes the whole tree for its transaction first (`_lock_tree`)
and only then reads it. A materialised path is worked out from the siblings
already there: two inserts at the same moment, each reading the same last
sibling, would compute the same next path and one would fail on its
uniqueness; a move renumbers siblings under an insert's feet. Taken one at a
time, both are created, and every check (a free slug, a move that is no
cycle, a subtree still selling something) sees the tree as it now is.

Why one lock for the whole tree rather than retries or row locks: a retry in
a savepoint on the path's IntegrityError would also have to catch a slug
taken meanwhile, a move's renumbering and deadlocks between moves, and still
decide when to give up; a row lock on the parent (treebeard's add_child takes
one) leaves top-level categories, which have no parent row, and moves across
parents, which touch two. Category writes are rare staff edits, so making
them wait for each other costs nothing anyone notices; readers never wait."""

import zlib
from typing import Any

from django.db import connection, transaction

from apps.catalog.models import Category, Product
from apps.catalog.services.changes import categories_changed
from apps.catalog.services.checks import sanitize_description
from apps.core.errors import ErrorCode, NotFound, ServiceError
from apps.core.validation import (
    Problems,
    chosen_slug,
    clean_text,
    max_length,
    reject_unknown,
    unique_slug,
)

CATEGORY_FIELDS = {"name", "slug", "description", "parent", "position"}

# PostgreSQL's advisory locks are named by a number: this one is the tree's.
TREE_LOCK_KEY = zlib.crc32(b"catalog.Category tree")


def _lock_tree() -> None:
    """Wait until no other transaction writes the category tree, and keep it
    until this one ends. Call first in the transaction, before any read.

    PostgreSQL: a transaction-scoped advisory lock (no row to lock exists for
    the top level, and an empty tree has no row at all). SQLite lets one
    writer at a time: an empty UPDATE as the first statement takes the
    database's write lock now, waiting its busy timeout for another writer,
    instead of at the first insert, where a transaction that has read is
    refused at once ("database is locked")."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [TREE_LOCK_KEY])
        else:
            table = connection.ops.quote_name(Category._meta.db_table)
            cursor.execute(f"UPDATE {table} SET numchild = numchild WHERE 0 = 1")


def _reread(category: Category, *, field: str) -> None:
    """Its place in the tree as it is now, under the lock: another write may
    have moved or deleted it since it was read."""
    try:
        category.refresh_from_db(fields=["path", "depth", "numchild"])
    except Category.DoesNotExist:
        raise NotFound("This category was deleted.", field=field) from None


def _check_parent(problems: Problems, category: Category | None, parent: Category | None) -> None:
    if category is None or parent is None:
        return
    if parent.pk == category.pk or parent.path.startswith(category.path):
        problems.add("parent_id", "A category cannot move under itself or its descendants.")


def _check_position(problems: Problems, position: int | None) -> None:
    if position is not None and position < 0:
        problems.add("position", "The position must be 0 or more.")


def _place(category: Category, position: int) -> Category:
    """Move `category` to `position` among its siblings (past the end: last)."""
    siblings = [node for node in Category.objects.get_siblings(category) if node.pk != category.pk]
    if not siblings:
        return category
    if position < len(siblings):
        Category.objects.move(category, siblings[position], "left")
    else:
        Category.objects.move(category, siblings[-1], "right")
    category.refresh_from_db()
    return category


@transaction.atomic
def category_create(*, actor, name: str, slug: str | None = None, description: str = "",
                    parent: Category | None = None, position: int | None = None) -> Category:
    _lock_tree()
    if parent is not None:
        _reread(parent, field="parent_id")
    problems = Problems()
    name = clean_text(problems, "name", name, limit=max_length(Category, "name"), required=True)
    slug = (chosen_slug(problems, Category, slug) if slug
            else unique_slug(Category, name, "category"))
    _check_position(problems, position)
    problems.raise_any()
    category = Category(name=name, slug=slug, description=sanitize_description(description))
    if parent is None:
        category = Category.objects.add_root(instance=category)
    else:
        category = Category.objects.add_child(parent, instance=category)
    if position is not None:
        category = _place(category, position)
    categories_changed(actor=actor, category_ids=[category.pk])
    return category


@transaction.atomic
def category_update(*, actor, category: Category, **fields: Any) -> Category:
    """Rename, re-describe or move a category (with its subtree). `parent`
    given as None moves it to the top level; `position` places it among its
    (new) siblings. Publishes CategoryChanged for it (its subtree moves with
    it; the lists that show them are invalidated by that one event)."""
    reject_unknown(fields, CATEGORY_FIELDS)
    _lock_tree()
    _reread(category, field="id")
    if fields.get("parent") is not None:
        _reread(fields["parent"], field="parent_id")
    problems = Problems()
    if "name" in fields:
        category.name = clean_text(problems, "name", fields["name"],
                                   limit=max_length(Category, "name"), required=True)
    if "slug" in fields:
        category.slug = chosen_slug(problems, Category, fields["slug"], exclude_pk=category.pk)
    if "description" in fields:
        category.description = sanitize_description(fields["description"])
    parent = fields.get("parent")
    _check_parent(problems, category, parent)
    position = fields.get("position")
    _check_position(problems, position)
    problems.raise_any()
    category.save(update_fields=["name", "slug", "description", "updated_at"])
    if "parent" in fields:
        current = Category.objects.get_parent(category, update=True)
        if parent is None and current is not None:
            Category.objects.move(category, Category.objects.get_last_root_node(), "last-sibling")
        elif parent is not None and (current is None or current.pk != parent.pk):
            Category.objects.move(category, parent, "last-child")
        category.refresh_from_db()
    if position is not None:
        category = _place(category, position)
    categories_changed(actor=actor, category_ids=[category.pk])
    return category


@transaction.atomic
def category_delete(*, actor, category: Category) -> None:
    """Delete a category and its whole subtree, but only while none of them
    holds a live product: a category still selling something is IN_USE, and
    its products must move or be deleted first. Soft-deleted products keep no
    category (they are no longer shown anywhere). Each category deleted
    publishes CategoryChanged."""
    _lock_tree()
    _reread(category, field="id")
    if category_holds_products(category=category):
        raise ServiceError(
            "This category or one below it still holds products; move or delete them first.",
            code=ErrorCode.IN_USE,
        )
    subtree = Category.objects.filter(path__startswith=category.path)
    deleted = list(subtree.order_by("path").values_list("pk", flat=True))
    Product.objects.filter(category__in=subtree).update(category=None)
    category.delete()
    categories_changed(actor=actor, category_ids=deleted)


def category_holds_products(*, category: Category) -> bool:
    """Whether the category or one below it holds a live product."""
    return Product.objects.live().filter(category__path__startswith=category.path).exists()
