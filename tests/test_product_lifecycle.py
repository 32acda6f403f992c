"""The product's state machine: the pure table (apps.catalog.transitions) and
the one service that applies it (apps.catalog.services.lifecycle)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.catalog import services
from apps.catalog.models import Product, ProductEvent
from apps.catalog.transitions import Move, State, sources, state_of, target
from apps.core.errors import ErrorCode, ServiceError
from apps.core.models import OutboxEvent
from tests.conftest import make_user
from tests.factories import make_product
from tests.test_inventory import _in_threads as race
from tests.test_inventory import keeps_default_warehouse  # noqa: F401 - a fixture

D, P, DD, DP = State.DRAFT, State.PUBLISHED, State.DELETED_DRAFT, State.DELETED_PUBLISHED

# Every (state, move) pair: where it leads, or None where it is refused.
TABLE = {
    (D, Move.PUBLISH): P, (P, Move.PUBLISH): None, (DD, Move.PUBLISH): None,
    (DP, Move.PUBLISH): None,
    (D, Move.UNPUBLISH): None, (P, Move.UNPUBLISH): D, (DD, Move.UNPUBLISH): None,
    (DP, Move.UNPUBLISH): None,
    (D, Move.DELETE): DD, (P, Move.DELETE): DP, (DD, Move.DELETE): None,
    (DP, Move.DELETE): None,
    (D, Move.RESTORE): None, (P, Move.RESTORE): None, (DD, Move.RESTORE): D,
    (DP, Move.RESTORE): P,
}


@pytest.mark.parametrize(("state", "move"), list(TABLE))
def test_the_table(state, move):
    assert target(state, move) == TABLE[state, move]
    assert (state in sources(move)) == (TABLE[state, move] is not None)


def test_state_of_a_product():
    assert [state_of(is_published=p, deleted=d) for p, d in
            [(False, False), (True, False), (False, True), (True, True)]] == [D, P, DD, DP]


def product_in(state: State) -> Product:
    return make_product(is_published=state in (P, DP), deleted=state in (DD, DP))


def state_in_db(product: Product) -> State:
    row = Product.objects.get(pk=product.pk)
    return state_of(is_published=row.is_published, deleted=row.deleted_at is not None)


EVENT_TYPES = {Move.PUBLISH: "ProductPublished", Move.UNPUBLISH: "ProductUnpublished",
               Move.DELETE: "ProductDeleted", Move.RESTORE: "ProductRestored"}
KINDS = {Move.PUBLISH: "published", Move.UNPUBLISH: "unpublished", Move.DELETE: "deleted",
         Move.RESTORE: "restored"}


@pytest.mark.parametrize(("state", "move"), [pair for pair, to in TABLE.items() if to])
def test_each_allowed_move_writes_its_event_row_and_publishes(db, state, move):
    actor = make_user(first_name="Sam")
    item = product_in(state)
    moved = services.product_transition(actor=actor, product=item, move=move)
    assert state_in_db(item) == TABLE[state, move]
    assert state_of(is_published=moved.is_published,
                    deleted=moved.deleted_at is not None) == TABLE[state, move]
    assert list(ProductEvent.objects.values_list("product", "kind", "actor")) == [
        (item.pk, KINDS[move], actor.pk)]
    (event,) = OutboxEvent.objects.all()
    assert (event.type, event.payload) == (
        EVENT_TYPES[move], {"product_id": item.pk, "actor_id": actor.pk})


@pytest.mark.parametrize(("state", "move"), [pair for pair, to in TABLE.items() if not to])
def test_each_forbidden_move_is_refused_and_writes_nothing(db, state, move):
    item = product_in(state)
    before = Product.objects.values().get(pk=item.pk)
    with pytest.raises(ServiceError) as refused:
        services.product_transition(actor=None, product=item, move=move)
    # Deleted products are NOT_FOUND to every move but restore; restoring a
    # live one is NOT_FOUND too. Only publish/unpublish of a live product can
    # be in the wrong state.
    live_and_publishing = state in (D, P) and move in (Move.PUBLISH, Move.UNPUBLISH)
    expected = ErrorCode.INVALID_TRANSITION if live_and_publishing else ErrorCode.NOT_FOUND
    assert [e.code for e in refused.value.errors] == [expected]
    assert Product.objects.values().get(pk=item.pk) == before
    assert not ProductEvent.objects.exists() and not OutboxEvent.objects.exists()


@pytest.mark.parametrize("move", list(Move))
def test_an_unknown_product_is_not_found(db, move):
    with pytest.raises(ServiceError) as refused:
        services.product_transition(actor=None, product=Product(pk=987_654), move=move)
    assert refused.value.errors[0].code == ErrorCode.NOT_FOUND


def test_published_at_is_stamped_on_the_first_publish_only(db, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    item = product_in(D)
    services.product_publish(actor=None, product=item)
    first = Product.objects.get(pk=item.pk).published_at
    assert first == timezone.now() == item.published_at
    time_machine.shift(timedelta(days=1))
    services.product_unpublish(actor=None, product=item)
    services.product_publish(actor=None, product=Product.objects.get(pk=item.pk))
    assert Product.objects.get(pk=item.pk).published_at == first
    assert list(ProductEvent.objects.order_by("id").values_list("kind", flat=True)) == [
        "published", "unpublished", "published"]


def test_restore_brings_the_product_back_as_it_was(db):
    draft, published = product_in(DD), product_in(DP)
    services.product_restore(actor=None, product=draft)
    services.product_restore(actor=None, product=published)
    assert (state_in_db(draft), state_in_db(published)) == (D, P)


def test_bulk_delete_moves_and_records_only_the_live_ones(db):
    live = [product_in(D), product_in(P)]
    gone = product_in(DP)
    assert services.products_bulk_delete(actor=None, products=[*live, gone]) == 2
    assert sorted(ProductEvent.objects.values_list("product", flat=True)) == [
        p.pk for p in live]
    assert sorted(OutboxEvent.objects.values_list("payload__product_id", flat=True)) == [
        p.pk for p in live]
    assert OutboxEvent.objects.filter(type="ProductDeleted").count() == 2


def test_product_update_moves_only_when_is_published_changes(db):
    item = product_in(D)
    services.product_update(actor=None, product=item, name="Renamed", is_published=False)
    assert not ProductEvent.objects.exists()
    services.product_update(actor=None, product=item, is_published=True)
    services.product_update(actor=None, product=item, is_published=True, name="Again")
    assert list(ProductEvent.objects.values_list("kind", flat=True)) == ["published"]
    row = Product.objects.get(pk=item.pk)
    assert (row.name, row.is_published, row.published_at) == ("Again", True, item.published_at)


def test_product_update_leaves_the_state_columns_to_the_moves(db):
    """A stale instance saved by product_update cannot undo a delete made
    meanwhile: only the fields it changes are written."""
    item = product_in(P)
    stale = Product.objects.get(pk=item.pk)
    services.product_delete(actor=None, product=item)
    services.product_update(actor=None, product=stale, seo_title="Still here?")
    assert state_in_db(item) == DP


def test_a_product_created_published_has_its_publish_recorded(db):
    actor = make_user()
    made = services.product_create(actor=actor, name="Neroli", is_published=True)
    draft = services.product_create(actor=actor, name="Oud")
    assert made.published_at is not None and draft.published_at is None
    assert list(ProductEvent.objects.values_list("product", "kind", "actor")) == [
        (made.pk, "published", actor.pk)]
    assert OutboxEvent.objects.get(type="ProductPublished").payload == {
        "product_id": made.pk, "actor_id": actor.pk}
    assert sorted(OutboxEvent.objects.filter(type="ProductCreated")
                  .values_list("payload__product_id", flat=True)) == [made.pk, draft.pk]


# --- The Django admin goes through the same moves ----------------------------------------


def change_form(item: Product, **changes) -> dict:
    data = {
        "name": item.name, "slug": item.slug, "description": item.description,
        "category": "", "attributes": "{}", "seo_title": "", "seo_description": "",
        **changes,
    }
    if item.is_published and "is_published" not in changes:
        data["is_published"] = "on"
    for prefix in ("variants", "media"):
        data |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0",
                 f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}
    return data


def test_the_admin_publishes_and_unpublishes_through_the_service(db, admin_client, admin_user):
    item = product_in(D)
    url = f"/admin/catalog/product/{item.pk}/change/"
    response = admin_client.post(url, change_form(item, is_published="on"))
    assert response.status_code == 302, response.content.decode()[:2000]
    row = Product.objects.get(pk=item.pk)
    assert row.is_published and row.published_at is not None
    admin_client.post(url, change_form(row, name="Renamed"))  # still published: no move
    admin_client.post(url, change_form(Product.objects.get(pk=item.pk), is_published=""))
    assert state_in_db(item) == D
    assert list(ProductEvent.objects.order_by("id").values_list("kind", "actor")) == [
        ("published", admin_user.pk), ("unpublished", admin_user.pk)]
    assert Product.objects.get(pk=item.pk).published_at == row.published_at


def test_the_admin_adds_a_published_product_through_the_service(db, admin_client):
    data = change_form(Product(name="Amber", slug="amber"), is_published="on")
    assert admin_client.post("/admin/catalog/product/add/", data).status_code == 302
    made = Product.objects.get(slug="amber")
    assert made.is_published and made.published_at is not None
    assert list(ProductEvent.objects.values_list("product", "kind")) == [(made.pk, "published")]


def test_the_admin_restore_action_restores_through_the_service(db, admin_client, admin_user):
    deleted, live = product_in(DP), product_in(D)
    response = admin_client.post("/admin/catalog/product/", {
        "action": "restore", "_selected_action": [deleted.pk, live.pk]})
    assert response.status_code == 302
    assert (state_in_db(deleted), state_in_db(live)) == (P, D)
    assert list(ProductEvent.objects.values_list("product", "kind", "actor")) == [
        (deleted.pk, "restored", admin_user.pk)]
    assert admin_client.get("/admin/catalog/productevent/").status_code == 200


# --- Concurrency: the conditional UPDATE ---------------------------------------------------

postgres_only = pytest.mark.postgresql  # row locks


def codes(results: list) -> list:
    return sorted(r.errors[0].code if isinstance(r, ServiceError) else "moved" for r in results)


@postgres_only
def test_concurrent_publishes_move_the_product_once(
    keeps_default_warehouse, transactional_db  # noqa: F811
):
    item = product_in(D)
    results = race(4, lambda i: services.product_publish(
        actor=None, product=Product.objects.get(pk=item.pk)))
    assert codes(results) == [ErrorCode.INVALID_TRANSITION] * 3 + ["moved"]
    assert ProductEvent.objects.filter(product=item).count() == 1
    assert OutboxEvent.objects.filter(type="ProductPublished").count() == 1


@postgres_only
def test_a_delete_racing_a_publish_leaves_one_consistent_history(
    keeps_default_warehouse, transactional_db  # noqa: F811
):
    item = product_in(D)

    def work(index: int):
        fresh = Product.objects.get(pk=item.pk)
        if index % 2:
            return services.products_bulk_delete(actor=None, products=[fresh])
        return services.product_publish(actor=None, product=fresh)

    results = race(6, work)
    deletes = [r for i, r in enumerate(results) if i % 2]
    assert sorted(deletes) == [0, 0, 1]  # exactly one delete counted it as live
    kinds = list(ProductEvent.objects.order_by("id").values_list("kind", flat=True))
    assert kinds in (["deleted"], ["published", "deleted"])
    assert state_in_db(item) == (DP if kinds[0] == "published" else DD)
    assert OutboxEvent.objects.count() == len(kinds)


# --- Through the API: the same moves, with the caller as actor ---------------------------

UPDATE = """mutation($id: ID!, $input: ProductUpdateInput!) {
  productUpdate(id: $id, input: $input) { product { isPublished publishedAt }
                                          errors { field code } } }"""


def test_the_api_moves_record_who_made_them(db, staff, staff_client):
    from tests.test_product_restore import DELETE, RESTORE, gid

    item = product_in(D)
    node = gid("Product", item.pk)
    published = staff_client.execute(UPDATE, {"id": node, "input": {"isPublished": True}})
    assert published["productUpdate"]["product"]["isPublished"] is True
    assert published["productUpdate"]["product"]["publishedAt"] is not None
    assert staff_client.execute(DELETE, {"id": node})["productDelete"]["errors"] == []
    again = staff_client.execute(DELETE, {"id": node})["productDelete"]["errors"]
    assert again == [{"code": "NOT_FOUND"}]
    assert staff_client.execute(RESTORE, {"id": node})["productRestore"]["errors"] == []
    assert list(ProductEvent.objects.order_by("id").values_list("kind", "actor")) == [
        ("published", staff.pk), ("deleted", staff.pk), ("restored", staff.pk)]
    assert list(OutboxEvent.objects.order_by("created_at", "type").values_list(
        "type", flat=True)) == ["ProductPublished", "ProductDeleted", "ProductRestored"]
    assert state_in_db(item) == P
