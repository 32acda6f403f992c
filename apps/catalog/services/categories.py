"""Category writes: the tree (parent and position among siblings) and the rule
that a category still selling something cannot be deleted."""

from typing import Any

from django.db import transaction

from apps.catalog.models import Category, Product
from apps.catalog.services.checks import sanitize_description
from apps.core.errors import ErrorCode, ServiceError
from apps.core.validation import (
    Problems,
    chosen_slug,
    clean_text,
    max_length,
    reject_unknown,
    unique_slug,
)

CATEGORY_FIELDS = {"name", "slug", "description", "parent", "position"}


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
    return category if position is None else _place(category, position)


@transaction.atomic
def category_update(*, actor, category: Category, **fields: Any) -> Category:
    """Rename, re-describe or move a category (with its subtree). `parent`
    given as None moves it to the top level; `position` places it among its
    (new) siblings."""
    reject_unknown(fields, CATEGORY_FIELDS)
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
    return category


@transaction.atomic
def category_delete(*, actor, category: Category) -> None:
    """Delete a category and its whole subtree, but only while none of them
    holds a live product: a category still selling something is IN_USE, and
    its products must move or be deleted first. Soft-deleted products keep no
    category (they are no longer shown anywhere)."""
    if category_holds_products(category=category):
        raise ServiceError(
            "This category or one below it still holds products; move or delete them first.",
            code=ErrorCode.IN_USE,
        )
    subtree = Category.objects.filter(path__startswith=category.path)
    Product.objects.filter(category__in=subtree).update(category=None)
    category.delete()


def category_holds_products(*, category: Category) -> bool:
    """Whether the category or one below it holds a live product."""
    return Product.objects.live().filter(category__path__startswith=category.path).exists()
