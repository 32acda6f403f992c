"""productsImport (CSV through a multipart upload) and productRestore: through
/graphql/ and through the services."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.accounts.permissions import Perm
from apps.catalog import csv_io, services
from apps.catalog.csv_io import ProductImportError, RowError, import_products_upload
from apps.catalog.models import Category, Product, ProductVariant
from apps.core.errors import ErrorCode, NotFound, ServiceError
from apps.inventory.models import Stock, StockMovement
from tests.conftest import Client, client_for, error_codes, make_user
from tests.test_catalog_admin import gid, image_bytes, product
from tests.test_csv import row, to_csv

pytestmark = pytest.mark.django_db

IMPORT = """mutation($file: Upload!, $dryRun: Boolean) {
  productsImport(file: $file, dryRun: $dryRun) {
    dryRun rows rowsUnchanged productsCreated productsUpdated variantsCreated variantsUpdated
    stockMovements
    errors { field code message }
  }
}"""

RESTORE = """mutation($id: ID!) {
  productRestore(id: $id) { product { slug } errors { field code message } }
}"""

DELETE = """mutation($id: ID!) { productDelete(id: $id) { errors { code } } }"""

STOREFRONT = """query($search: String) {
  products(first: 10, filters: {search: $search}) { edges { node { slug } } }
}"""


def send_csv(client: Client, content: bytes | str, *, dry_run: bool | None = None,
             filename: str = "products.csv") -> dict:
    """A GraphQL multipart request, as apollo-upload-client sends it; the
    whole JSON answer."""
    if isinstance(content, str):
        content = content.encode()
    variables = {"file": None} if dry_run is None else {"file": None, "dryRun": dry_run}
    response = client.upload(IMPORT, variables, {"variables.file": (filename, content, "text/csv")})
    assert response.status_code == 200, response.text
    return response.json()


def imported(client: Client, content: bytes | str, **kwargs) -> dict:
    result = send_csv(client, content, **kwargs)
    assert not result.get("errors"), result["errors"]
    return result["data"]["productsImport"]


def problems(payload: dict) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in payload["errors"]]


def counts():
    return (Product.objects.count(), ProductVariant.objects.count(), Stock.objects.count(),
            StockMovement.objects.count(), list(Stock.objects.values_list("quantity", flat=True)))


WHO = [("anonymous", "UNAUTHENTICATED"), ("customer", "FORBIDDEN"),
       ("other staff", "FORBIDDEN")]


def client_of(who: str) -> Client:
    if who == "anonymous":
        return Client()
    return client_for(make_user(perms=[Perm.MANAGE_ORDERS] if who == "other staff" else []))


@pytest.fixture
def oils():
    return Category.objects.add_root({"name": "Oils", "slug": "oils"})


GOOD = [row(), row(sku="RO-2", variant_name="30 ml", price="29", stock="0"),
        row(slug="neroli", name="Neroli", category_slug="", sku="NE-1", stock="3")]


# --- productsImport --------------------------------------------------------------------------


def test_import_creates_products_and_counts(oils, staff, staff_client):
    payload = imported(staff_client, to_csv(GOOD), filename="spring.csv")
    assert payload == {
        "dryRun": False, "rows": 3, "rowsUnchanged": 0, "productsCreated": 2,
        "productsUpdated": 0, "variantsCreated": 3, "variantsUpdated": 0, "stockMovements": 2,
        "errors": [],
    }
    rose = Product.objects.get(slug="rose-oil")
    assert rose.category == oils and rose.is_published
    assert list(rose.variants.order_by("sort_order").values_list("sku", "price")) == [
        ("RO-1", Decimal("12.50")), ("RO-2", Decimal("29"))]
    assert Product.objects.get(slug="neroli").variants.get().stocks.get().quantity == 3
    movement = StockMovement.objects.get(stock__variant__sku="RO-1")
    assert (movement.kind, movement.quantity_delta) == (StockMovement.Kind.IMPORT, 7)
    assert (movement.actor, movement.reference) == (staff, "import:spring.csv:2")

    # The same file again changes nothing; one changed price updates one variant.
    again = imported(staff_client, to_csv(GOOD))
    assert (again["rows"], again["rowsUnchanged"], again["variantsUpdated"]) == (3, 3, 0)
    changed = imported(staff_client, to_csv([GOOD[0], GOOD[1] | {"price": "31"}, GOOD[2]]))
    assert (changed["rowsUnchanged"], changed["variantsUpdated"]) == (2, 1)
    assert ProductVariant.objects.get(sku="RO-2").price == Decimal("31")


def test_import_accepts_a_byte_order_mark_and_windows_line_ends(oils, staff_client):
    text = "\ufeff" + to_csv([row()]).replace("\r\n", "\n").replace("\n", "\r\n")
    payload = imported(staff_client, text.encode(), filename="excel.csv")
    assert (payload["productsCreated"], payload["errors"]) == (1, [])


def test_dry_run_counts_and_writes_nothing(oils, staff_client):
    before = counts()
    payload = imported(staff_client, to_csv(GOOD), dry_run=True)
    assert payload["dryRun"] is True
    assert (payload["productsCreated"], payload["variantsCreated"],
            payload["stockMovements"]) == (2, 3, 2)
    assert counts() == before


def test_a_bad_row_is_reported_per_cell_and_nothing_is_written(oils, staff_client):
    imported(staff_client, to_csv([row()]))
    before = counts()
    text = to_csv([row(price="99"), row(sku="RO-2", price="-1", compare_at_price="1.234"),
                   row(slug="neroli", name="", sku="RO-2")])
    payload = imported(staff_client, text, dry_run=True)
    assert payload["dryRun"] is True and payload["productsCreated"] == 0
    assert problems(payload) == [
        ("rows.3.price", "INVALID"), ("rows.3.compareAtPrice", "INVALID"),
        ("rows.4.name", "REQUIRED"), ("rows.4.sku", "UNIQUE")]
    assert payload["errors"][0]["message"] == "row 3: price: must be ≥ 0"
    assert counts() == before
    assert ProductVariant.objects.get(sku="RO-1").price == Decimal("12.50")


def test_a_bad_header_is_reported_on_row_1(staff_client):
    payload = imported(staff_client, "slug,name,prcie,sku\nx,X,1,S\n")
    assert problems(payload) == [("rows.1", "INVALID"), ("rows.1", "REQUIRED")]
    assert [e["message"] for e in payload["errors"]] == [
        "row 1: unknown column 'prcie'", "row 1: missing column 'price'"]


@pytest.mark.parametrize("content", [
    "slug,name,sku,price\nrosé,Rosé,R-1,1\n".encode("latin-1"),  # not UTF-8
    image_bytes("PNG"),
    b"slug,name,sku,price\n\x00\x01\x02,x,y,1\n",  # UTF-8, but binary
    b"",
])
def test_a_file_that_is_not_utf8_csv_text_is_invalid(db, staff_client, content):
    payload = imported(staff_client, content, filename="products.csv")
    assert problems(payload) == [("file", "INVALID")]
    assert not Product.objects.exists()


def test_a_file_over_the_limit_is_invalid(oils, staff_client, settings):
    text = to_csv(GOOD)
    settings.UPLOAD_MAX_SIZE = len(text.encode()) - 1
    payload = imported(staff_client, text)
    assert problems(payload) == [("file", "INVALID")]
    assert "larger than" in payload["errors"][0]["message"]
    assert not Product.objects.exists()


def test_a_file_over_the_row_limit_is_invalid(oils, staff_client, monkeypatch):
    monkeypatch.setattr(csv_io, "UPLOAD_MAX_ROWS", 2)
    payload = imported(staff_client, to_csv(GOOD))
    assert problems(payload) == [("file", "INVALID")]
    assert payload["errors"][0]["message"].startswith("The file has 3 rows; at most 2")
    assert not Product.objects.exists()
    monkeypatch.setattr(csv_io, "UPLOAD_MAX_ROWS", 3)
    assert imported(staff_client, to_csv(GOOD))["productsCreated"] == 2


@pytest.mark.parametrize("rows, field", [
    ([row(description="x" * 200_000)], "rows.2"),
    ([row(), row(sku="RO-2", description="x" * 200_000)], "rows.3"),
])
def test_unreadable_csv_is_a_row_error_not_a_server_error(oils, staff_client, rows, field):
    payload = imported(staff_client, to_csv(rows))  # a cell over csv.field_size_limit()
    assert problems(payload) == [(field, "INVALID")]
    assert not Product.objects.exists()


def test_an_unreadable_header_is_row_1(staff_client):
    payload = imported(staff_client, "slug,name,sku,price," + "x" * 200_000 + "\n")
    assert problems(payload) == [("rows.1", "INVALID")]


@pytest.mark.parametrize("who, code", WHO)
def test_import_needs_manage_products(oils, who, code):
    client = client_of(who)
    result = send_csv(client, to_csv(GOOD))
    assert error_codes(result) == [code] and result["data"] is None
    assert not Product.objects.exists()


def test_import_products_upload_directly(oils, staff):
    upload = SimpleUploadedFile("a.csv", to_csv(GOOD).encode(), content_type="text/csv")
    result = import_products_upload(actor=staff, upload=upload)
    assert (result.rows, result.products_created, result.variants_created) == (3, 2, 3)

    with pytest.raises(ServiceError) as caught:
        import_products_upload(actor=staff, upload="not a file")
    assert [(e.field, e.code) for e in caught.value.errors] == [("file", ErrorCode.INVALID)]

    bad = SimpleUploadedFile("b.csv", to_csv([row(price="x")]).encode())
    with pytest.raises(ProductImportError) as caught:
        import_products_upload(actor=staff, upload=bad)
    assert caught.value.row_errors == [RowError(2, "price", "'x' is not a number")]
    assert [(e.field, e.code) for e in caught.value.errors] == [
        ("rows.2.price", ErrorCode.INVALID)]


# --- productRestore --------------------------------------------------------------------------


def storefront_slugs(search: str | None = None) -> list[str]:
    data = Client().execute(STOREFRONT, {"search": search})
    return [edge["node"]["slug"] for edge in data["products"]["edges"]]


def test_restore_brings_a_deleted_product_back_to_the_storefront(db, staff_client):
    item = product(name="Vetiver", is_published=True)
    product(name="Cedar", is_published=True)
    staff_client.execute(DELETE, {"id": gid("Product", item.pk)})
    assert storefront_slugs() == ["cedar"] and storefront_slugs("vetiver") == []

    payload = staff_client.execute(RESTORE, {"id": gid("Product", item.pk)})["productRestore"]
    assert payload == {"product": {"slug": "vetiver"}, "errors": []}
    assert Product.objects.get(pk=item.pk).deleted_at is None
    assert sorted(storefront_slugs()) == ["cedar", "vetiver"]
    assert storefront_slugs("vetiver") == ["vetiver"]

    # Live now: there is no deleted product with this ID.
    again = staff_client.execute(RESTORE, {"id": gid("Product", item.pk)})["productRestore"]
    assert (again["product"], problems(again)) == (None, [("id", "NOT_FOUND")])
    unknown = staff_client.execute(RESTORE, {"id": gid("Product", 987_654_321)})
    assert problems(unknown["productRestore"]) == [("id", "NOT_FOUND")]


def test_product_restore_service(db):
    item = product()
    with pytest.raises(NotFound):
        services.product_restore(actor=None, product=item)
    services.product_delete(actor=None, product=item)
    deleted_at = Product.objects.get(pk=item.pk).deleted_at
    assert deleted_at is not None
    restored = services.product_restore(actor=None, product=item)
    assert restored.deleted_at is None and Product.objects.get(pk=item.pk).deleted_at is None
    # The slug and SKU stayed taken while it was deleted.
    services.product_delete(actor=None, product=item)
    with pytest.raises(ServiceError) as caught:
        product(name="Other", slug=item.slug)
    assert caught.value.errors[0].code == ErrorCode.UNIQUE


@pytest.mark.parametrize("who, code", WHO)
def test_restore_needs_manage_products(db, who, code):
    client = client_of(who)
    item = product()
    services.product_delete(actor=None, product=item)
    result = client.post(RESTORE, {"id": gid("Product", item.pk)})
    assert error_codes(result) == [code] and result["data"] is None
    assert Product.objects.get(pk=item.pk).deleted_at is not None


class TestCategoryPosition:
    CREATE = """mutation($input: CategoryInput!) {
      categoryCreate(input: $input) { category { id slug } errors { field code } } }"""
    UPDATE = """mutation($id: ID!, $input: CategoryInput!) {
      categoryUpdate(id: $id, input: $input) { category { slug } errors { field code } } }"""
    TREE = "{ categories(first: 100) { edges { node { slug parent { id } } } } }"

    def create(self, staff_client, name, **extra):
        data = staff_client.execute(self.CREATE, {"input": {"name": name, **extra}})
        assert data["categoryCreate"]["errors"] == []
        return data["categoryCreate"]["category"]["id"]

    def roots(self, client):
        edges = client.execute(self.TREE)["categories"]["edges"]
        return [e["node"]["slug"] for e in edges if e["node"]["parent"] is None]

    def test_siblings_keep_the_order_staff_give_them(self, staff_client):
        a = self.create(staff_client, "A")
        self.create(staff_client, "B")
        c = self.create(staff_client, "C")
        assert self.roots(staff_client) == ["a", "b", "c"]
        staff_client.execute(self.UPDATE, {"id": c, "input": {"position": 0}})
        assert self.roots(staff_client) == ["c", "a", "b"]
        self.create(staff_client, "D", position=1)
        assert self.roots(staff_client) == ["c", "d", "a", "b"]
        staff_client.execute(self.UPDATE, {"id": a, "input": {"position": 99}})
        assert self.roots(staff_client) == ["c", "d", "b", "a"]

    def test_moving_under_a_parent_at_a_position(self, staff_client):
        parent = self.create(staff_client, "Fragrance")
        self.create(staff_client, "Perfume", parentId=parent)
        self.create(staff_client, "Candles", parentId=parent)
        soap = self.create(staff_client, "Soap")
        staff_client.execute(self.UPDATE, {"id": soap, "input": {"parentId": parent, "position": 1}})
        edges = staff_client.execute(self.TREE)["categories"]["edges"]
        assert [e["node"]["slug"] for e in edges] == ["fragrance", "perfume", "soap", "candles"]

    def test_a_negative_position_is_invalid(self, staff_client):
        result = staff_client.execute(self.CREATE, {"input": {"name": "X", "position": -1}})
        assert result["categoryCreate"]["errors"] == [{"field": "position", "code": "INVALID"}]


class TestMediaUpdateAndDelete:
    UPDATE = """mutation($id: ID!, $alt: String, $position: Int) {
      productMediaUpdate(id: $id, alt: $alt, position: $position) {
        media { alt } product { thumbnail { alt } media { alt } } errors { field code } } }"""
    DELETE = """mutation($id: ID!) {
      productMediaDelete(id: $id) { product { media { alt } } errors { field code } } }"""

    def images(self):
        from tests.factories import make_media, make_product

        product = make_product(slug="lamp")
        return product, [make_media(product=product, alt=alt, sort_order=i, with_thumbnail=True)
                         for i, alt in enumerate(["front", "side", "back"])]

    def test_reorder_and_rename(self, staff_client):
        from strawberry.relay import to_base64

        _, (front, side, back) = self.images()
        data = staff_client.execute(
            self.UPDATE, {"id": to_base64("ProductMedia", back.pk), "position": 0, "alt": "rear"}
        )["productMediaUpdate"]
        assert data["errors"] == []
        assert data["product"]["thumbnail"] == {"alt": "rear"}
        assert [m["alt"] for m in data["product"]["media"]] == ["rear", "front", "side"]
        refused = staff_client.execute(
            self.UPDATE, {"id": to_base64("ProductMedia", side.pk), "position": -1}
        )["productMediaUpdate"]
        assert refused["errors"] == [{"field": "position", "code": "INVALID"}]

    def test_delete_removes_the_files_after_commit(
        self, staff_client, django_capture_on_commit_callbacks
    ):
        from strawberry.relay import to_base64

        from apps.catalog.models import ProductMedia

        _, (front, side, back) = self.images()
        storage, names = front.image.storage, [front.image.name, front.thumbnail.name]
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            data = staff_client.execute(self.DELETE, {"id": to_base64("ProductMedia", front.pk)})
        assert data["productMediaDelete"] == {
            "product": {"media": [{"alt": "side"}, {"alt": "back"}]}, "errors": []
        }
        assert not ProductMedia.objects.filter(pk=front.pk).exists()
        assert all(storage.exists(name) for name in names)  # not before the commit
        for callback in callbacks:
            callback()
        assert not any(storage.exists(name) for name in names)

    def test_unknown_ids_and_permissions(self, client, customer_client, staff_client):
        from strawberry.relay import to_base64

        from tests.conftest import error_codes

        _, (front, *_rest) = self.images()
        media_id = to_base64("ProductMedia", front.pk)
        assert error_codes(client.post(self.DELETE, {"id": media_id})) == ["UNAUTHENTICATED"]
        assert error_codes(customer_client.post(self.DELETE, {"id": media_id})) == ["FORBIDDEN"]
        missing = staff_client.execute(self.DELETE, {"id": to_base64("ProductMedia", 10**9)})
        assert missing["productMediaDelete"]["errors"] == [{"field": "id", "code": "NOT_FOUND"}]
