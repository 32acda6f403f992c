"""productsImport: a CSV sent as a multipart upload, through /graphql/ and
through import_products_upload. (The importer's rules: test_csv.py.)"""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.catalog import csv_io
from apps.catalog.csv_io import ProductImportError, RowError, import_products_upload
from apps.catalog.models import Category, Product, ProductVariant
from apps.core.errors import ErrorCode, ServiceError
from apps.inventory.models import Stock, StockMovement
from tests.conftest import WHO, Client, client_of, error_codes, problems
from tests.test_catalog_admin import image_bytes
from tests.test_csv import row, to_csv

pytestmark = pytest.mark.django_db

IMPORT = """mutation($file: Upload!, $dryRun: Boolean) {
  productsImport(file: $file, dryRun: $dryRun) {
    dryRun rows rowsUnchanged productsCreated productsUpdated variantsCreated variantsUpdated
    stockMovements
    errors { field code message }
  }
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


def counts():
    return (Product.objects.count(), ProductVariant.objects.count(), Stock.objects.count(),
            StockMovement.objects.count(), list(Stock.objects.values_list("quantity_on_hand", flat=True)))


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
    assert Product.objects.get(slug="neroli").variants.get().stocks.get().quantity_on_hand == 3
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
    monkeypatch.setattr(csv_io.imports, "UPLOAD_MAX_ROWS", 2)
    payload = imported(staff_client, to_csv(GOOD))
    assert problems(payload) == [("file", "INVALID")]
    assert payload["errors"][0]["message"].startswith("The file has 3 rows; at most 2")
    assert not Product.objects.exists()
    monkeypatch.setattr(csv_io.imports, "UPLOAD_MAX_ROWS", 3)
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
