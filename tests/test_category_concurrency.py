"""Category writes racing each other: sibling inserts and moves are taken one
at a time, so two top-level categories (or two children of one parent)
created at the same moment are both created, never refused as UNIQUE."""

import pytest

from apps.catalog import services
from apps.catalog.models import Category
from apps.core.errors import ErrorCode, ServiceError
from tests.test_catalog_admin import refused
from tests.test_inventory import _in_threads as race
from tests.test_inventory import keeps_default_warehouse  # noqa: F401 - a fixture

RACERS = 6


def assert_tree_sound() -> None:
    """Every path distinct, and treebeard finds no wrong depth, orphan or
    child count."""
    paths = list(Category.objects.values_list("path", flat=True))
    assert len(paths) == len(set(paths))
    assert all(problems == [] for problems in Category.objects.find_problems())


def created(results: list) -> list[Category]:
    assert [r for r in results if isinstance(r, BaseException)] == []
    return results


# --- PostgreSQL: separate connections at the same moment ---------------------------------------


@pytest.mark.postgresql
def test_top_level_categories_created_at_once_are_all_created(
    keeps_default_warehouse, transactional_db  # noqa: F811
):
    services.category_create(actor=None, name="Existing")
    # The same name each time: the slugs are worked out one after another too.
    made = created(race(RACERS, lambda i: services.category_create(actor=None, name="Oils")))
    assert sorted(c.slug for c in made) == sorted(["oils"] + [f"oils-{n}" for n in range(2, 7)])
    roots = Category.objects.get_root_nodes()
    assert roots.count() == RACERS + 1
    assert {c.pk for c in made} <= set(roots.values_list("pk", flat=True))
    assert_tree_sound()


@pytest.mark.postgresql
def test_the_first_top_level_categories_created_at_once(
    keeps_default_warehouse, transactional_db  # noqa: F811
):
    """An empty tree: no row to lock, and every racer starts at path 0001."""
    created(race(RACERS, lambda i: services.category_create(actor=None, name=f"Root {i}")))
    assert Category.objects.get_root_nodes().count() == RACERS
    assert_tree_sound()


@pytest.mark.postgresql
def test_children_of_one_parent_created_at_once_are_all_created(
    keeps_default_warehouse, transactional_db  # noqa: F811
):
    parent = services.category_create(actor=None, name="Fragrance")
    services.category_create(actor=None, name="Perfume", parent=parent)
    made = created(race(RACERS, lambda i: services.category_create(
        actor=None, name=f"Child {i}", parent=Category.objects.get(pk=parent.pk),
        position=0 if i % 2 else None)))
    children = Category.objects.get_children(Category.objects.get(pk=parent.pk))
    assert children.count() == RACERS + 1
    assert {c.pk for c in made} <= set(children.values_list("pk", flat=True))
    assert Category.objects.get(pk=parent.pk).numchild == RACERS + 1
    assert_tree_sound()


@pytest.mark.postgresql
def test_moves_racing_inserts_keep_the_tree_sound(
    keeps_default_warehouse, transactional_db  # noqa: F811
):
    """Moves renumber siblings; inserts take the next free path among them."""
    top = services.category_create(actor=None, name="Top")
    movers = [services.category_create(actor=None, name=f"Mover {i}", parent=top)
              for i in range(RACERS // 2)]

    def work(index: int):
        if index % 2:
            return services.category_create(actor=None, name=f"New {index}", position=0)
        mover = Category.objects.get(pk=movers[index // 2].pk)
        return services.category_update(actor=None, category=mover, parent=None, position=0)

    created(race(RACERS, work))
    assert Category.objects.get_root_nodes().count() == 1 + RACERS
    assert Category.objects.get(pk=top.pk).numchild == 0
    assert_tree_sound()


# --- Any backend: what reading the tree under the lock changes -------------------------------


@pytest.mark.django_db
def test_sequential_writes_build_the_tree_as_before():
    a = services.category_create(actor=None, name="A")
    b = services.category_create(actor=None, name="B")
    child = services.category_create(actor=None, name="A1", parent=a)
    first = services.category_create(actor=None, name="B0", parent=b, position=0)
    services.category_create(actor=None, name="B1", parent=b)
    assert [(c.slug, c.path) for c in Category.objects.get_tree()] == [
        ("a", "0001"), ("a1", "00010001"), ("b", "0002"), ("b0", "00020001"), ("b1", "00020002")]
    services.category_update(actor=None, category=child, parent=b, position=1)
    assert [c.slug for c in Category.objects.get_children(Category.objects.get(pk=b.pk))] == ["b0", "a1", "b1"]
    services.category_delete(actor=None, category=first)
    assert Category.objects.get(pk=b.pk).numchild == 2
    assert_tree_sound()


@pytest.mark.django_db
def test_a_move_checks_the_tree_as_it_is_not_as_it_was_read():
    """Another editor moved B under A after this one read both: moving A under
    B now would be a cycle, refused with a coded error."""
    a = services.category_create(actor=None, name="A")
    b = services.category_create(actor=None, name="B")
    stale_a, stale_b = Category.objects.get(pk=a.pk), Category.objects.get(pk=b.pk)
    services.category_update(actor=None, category=b, parent=a)
    assert refused(services.category_update, category=stale_a, parent=stale_b) == [
        ("parent_id", ErrorCode.INVALID)]
    assert_tree_sound()


@pytest.mark.django_db
def test_a_parent_deleted_meanwhile_is_not_found():
    parent = services.category_create(actor=None, name="Gone")
    stale = Category.objects.get(pk=parent.pk)
    services.category_delete(actor=None, category=parent)
    with pytest.raises(ServiceError) as info:
        services.category_create(actor=None, name="Orphan", parent=stale)
    assert [(e.field, e.code) for e in info.value.errors] == [("parent_id", ErrorCode.NOT_FOUND)]
    assert not Category.objects.exists()
