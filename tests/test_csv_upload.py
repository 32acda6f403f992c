"""productsImport: a CSV sent as a multipart upload through /graphql/, stored
and imported by a job (eager Celery here), which the admin console polls
through `node`. (The importer's rules: test_csv.py; the job's progress, its
subscription and its deliveries: test_import_jobs.py.)"""

from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.permissions import Perm
from apps.catalog.models import Category, ImportJob, Product, ProductVariant
from apps.inventory.models import Stock, StockMovement
from apps.inventory.services import default_warehouse
from tests.conftest import WHO, Client, client_for, client_of, error_codes, make_user, problems
from tests.test_catalog_admin import image_bytes
from tests.test_csv import export_text, row, to_csv

pytestmark = pytest.mark.django_db

JOB = """fragment Job on ImportJob {
  id status dryRun fileName rowsTotal rowsDone rowsUnchanged productsCreated productsUpdated
  variantsCreated variantsUpdated stockMovements errorCount
  errors { field code message }
}"""

IMPORT = """mutation($file: Upload!, $dryRun: Boolean) {
  productsImport(file: $file, dryRun: $dryRun) {
    importJob { ...Job }
    errors { field code message }
  }
}""" + JOB

NODE = "query($id: ID!) { node(id: $id) { ...Job } }" + JOB


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


def payload_of(client: Client, content: bytes | str, **kwargs) -> dict:
    result = send_csv(client, content, **kwargs)
    assert not result.get("errors"), result["errors"]
    return result["data"]["productsImport"]


def polled(client: Client, job_id: str) -> dict | None:
    """The job as the admin console polls it."""
    return client.execute(NODE, {"id": job_id})["node"]


@pytest.fixture
def imported(django_capture_on_commit_callbacks):
    """Send a file and let its job run (the test's transaction never commits,
    so the outbox's dispatch, and with it the eager task, runs at the end of
    the capture); the job as `node` then answers."""

    def send(client: Client, content: bytes | str, **kwargs) -> dict:
        with django_capture_on_commit_callbacks(execute=True):
            payload = payload_of(client, content, **kwargs)
            assert payload["errors"] == [] and payload["importJob"]["status"] == "QUEUED"
        job = polled(client, payload["importJob"]["id"])
        assert job is not None
        return job

    return send


def counts():
    return (Product.objects.count(), ProductVariant.objects.count(), Stock.objects.count(),
            StockMovement.objects.count(), list(Stock.objects.values_list("quantity_on_hand", flat=True)))


@pytest.fixture
def oils():
    return Category.objects.add_root({"name": "Oils", "slug": "oils"})


GOOD = [row(), row(sku="RO-2", variant_name="30 ml", price="29", stock="0"),
        row(slug="neroli", name="Neroli", category_slug="", sku="NE-1", stock="3")]


def succeeded(**counted) -> dict:
    """What `Job` answers for a job that succeeded, with the counts given."""
    rows = counted.pop("rows")
    return {"status": "SUCCEEDED", "dryRun": False, "fileName": "products.csv",
            "rowsTotal": rows, "rowsDone": rows, "rowsUnchanged": 0, "productsCreated": 0,
            "productsUpdated": 0, "variantsCreated": 0, "variantsUpdated": 0,
            "stockMovements": 0, "errorCount": 0, "errors": [], **counted}


def without_id(job: dict) -> dict:
    return {name: value for name, value in job.items() if name != "id"}


# --- The job imports the file ------------------------------------------------------------


def test_the_job_imports_the_file_and_counts(oils, staff, staff_client, imported):
    job = imported(staff_client, to_csv(GOOD), filename="spring.csv")
    assert without_id(job) == succeeded(rows=3, fileName="spring.csv", productsCreated=2,
                                        variantsCreated=3, stockMovements=2)
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
    assert without_id(again) == succeeded(rows=3, rowsUnchanged=3)
    changed = imported(staff_client, to_csv([GOOD[0], GOOD[1] | {"price": "31"}, GOOD[2]]))
    assert (changed["rowsUnchanged"], changed["variantsUpdated"]) == (2, 1)
    assert ProductVariant.objects.get(sku="RO-2").price == Decimal("31")


def test_the_file_is_stored_until_its_job_ends(oils, staff, staff_client,
                                              django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        payload = payload_of(staff_client, to_csv(GOOD))
        stored = ImportJob.objects.get()
        assert (stored.created_by, stored.file_name) == (staff, "products.csv")
        # Under a name nobody can guess: the storage may serve its files.
        assert stored.file.name.startswith("imports/") and "products" not in stored.file.name
        assert default_storage.open(stored.file.name).read() == to_csv(GOOD).encode()
    assert payload["importJob"]["rowsTotal"] is None  # not read yet
    ended = ImportJob.objects.get()
    assert ended.status == ImportJob.Status.SUCCEEDED and ended.file.name == ""
    assert not default_storage.exists(stored.file.name)


def test_a_byte_order_mark_and_windows_line_ends(oils, staff_client, imported):
    text = "\ufeff" + to_csv([row()]).replace("\r\n", "\n").replace("\n", "\r\n")
    job = imported(staff_client, text.encode(), filename="excel.csv")
    assert (job["status"], job["productsCreated"], job["errors"]) == ("SUCCEEDED", 1, [])


def test_dry_run_counts_and_writes_nothing(oils, staff_client, imported):
    before = counts()
    job = imported(staff_client, to_csv(GOOD), dry_run=True)
    assert without_id(job) == succeeded(rows=3, dryRun=True, productsCreated=2,
                                        variantsCreated=3, stockMovements=2)
    assert counts() == before


def test_a_big_file_has_no_row_cap(staff_client, imported):
    """5,000 rows, once over the cap of 2,000: every one read and checked,
    and the last one's change written. (Stored as the file says, so that
    the test spends its time on the import's reading and checking, not on
    creating 5,000 variants through the services.)"""
    products = Product.objects.bulk_create(
        Product(name=f"Scent {n}", slug=f"scent-{n}", is_published=True) for n in range(2500))
    variants = ProductVariant.objects.bulk_create(
        ProductVariant(product=product, sku=f"SC-{n}-{size}", name=f"{size} ml",
                       price=Decimal("20.00"), sort_order=index)
        for n, product in enumerate(products) for index, size in enumerate((10, 50)))
    warehouse = default_warehouse()
    Stock.objects.bulk_create(Stock(variant=variant, warehouse=warehouse, quantity_on_hand=4)
                              for variant in variants)
    lines = export_text().splitlines(keepends=True)
    assert len(lines) == 5001
    last = lines[-1].split(",")
    assert last[9] == "20.00"
    lines[-1] = ",".join(last[:9] + ["21.00"] + last[10:])

    job = imported(staff_client, "".join(lines))
    assert without_id(job) == succeeded(rows=5000, rowsUnchanged=4999, variantsUpdated=1)
    changed = ProductVariant.objects.get(sku=last[6])
    assert changed.price == Decimal("21.00") and changed.product.slug == last[0]


# --- A file refused, a job failed: nothing written ------------------------------------------


def test_bad_rows_fail_the_job_with_an_error_per_cell_and_nothing_is_written(
        oils, staff_client, imported):
    imported(staff_client, to_csv([row()]))
    before = counts()
    text = to_csv([row(price="99"), row(sku="RO-2", price="-1", compare_at_price="1.234"),
                   row(slug="neroli", name="", sku="RO-2")])
    job = imported(staff_client, text)
    assert job["status"] == "FAILED" and job["rowsTotal"] == 3 and job["rowsDone"] == 0
    assert (job["productsCreated"], job["variantsUpdated"], job["errorCount"]) == (0, 0, 4)
    assert problems(job) == [
        ("rows.3.price", "INVALID"), ("rows.3.compareAtPrice", "INVALID"),
        ("rows.4.name", "REQUIRED"), ("rows.4.sku", "UNIQUE")]
    assert job["errors"][0]["message"] == "row 3: price: must be ≥ 0"
    assert counts() == before
    assert ProductVariant.objects.get(sku="RO-1").price == Decimal("12.50")
    assert ImportJob.objects.get(pk=ImportJob.objects.latest("pk").pk).file.name == ""


def test_a_bad_header_fails_on_row_1(staff_client, imported):
    job = imported(staff_client, "slug,name,prcie,sku\nx,X,1,S\n")
    assert (job["status"], job["rowsTotal"]) == ("FAILED", None)
    assert problems(job) == [("rows.1", "INVALID"), ("rows.1", "REQUIRED")]
    assert [e["message"] for e in job["errors"]] == [
        "row 1: unknown column 'prcie'", "row 1: missing column 'price'"]


@pytest.mark.parametrize("rows, field", [
    ([row(description="x" * 200_000)], "rows.2"),
    ([row(), row(sku="RO-2", description="x" * 200_000)], "rows.3"),
])
def test_unreadable_csv_fails_on_its_row_not_the_server(oils, staff_client, imported, rows,
                                                        field):
    job = imported(staff_client, to_csv(rows))  # a cell over csv.field_size_limit()
    assert job["status"] == "FAILED" and problems(job) == [(field, "INVALID")]
    assert not Product.objects.exists()


def test_an_unreadable_header_is_row_1(staff_client, imported):
    job = imported(staff_client, "slug,name,sku,price," + "x" * 200_000 + "\n")
    assert job["status"] == "FAILED" and problems(job) == [("rows.1", "INVALID")]


@pytest.mark.parametrize("content", [
    "slug,name,sku,price\nrosé,Rosé,R-1,1\n".encode("latin-1"),  # not UTF-8
    image_bytes("PNG"),
    b"slug,name,sku,price\n\x00\x01\x02,x,y,1\n",  # UTF-8, but binary
    b"",
])
def test_a_file_that_is_not_utf8_csv_text_is_refused_and_no_job_made(staff_client, content):
    payload = payload_of(staff_client, content)
    assert problems(payload) == [("file", "INVALID")] and payload["importJob"] is None
    assert not ImportJob.objects.exists() and not Product.objects.exists()


def test_a_file_over_the_size_limit_is_refused(oils, staff_client, settings):
    text = to_csv(GOOD)
    settings.UPLOAD_MAX_SIZE = len(text.encode()) - 1
    payload = payload_of(staff_client, text)
    assert problems(payload) == [("file", "INVALID")] and payload["importJob"] is None
    assert "larger than" in payload["errors"][0]["message"]
    assert not ImportJob.objects.exists()


# --- Who may ----------------------------------------------------------------------------


@pytest.mark.parametrize("who, code", WHO)
def test_import_needs_manage_products(oils, who, code):
    result = send_csv(client_of(who), to_csv(GOOD))
    assert error_codes(result) == [code] and result["data"] is None
    assert not ImportJob.objects.exists() and not Product.objects.exists()


def test_a_job_is_its_senders_alone(oils, staff_client, imported):
    job = imported(staff_client, to_csv(GOOD))
    other_manager = client_for(make_user(perms=[Perm.MANAGE_PRODUCTS]))
    assert polled(other_manager, job["id"]) is None
    assert polled(client_of("customer"), job["id"]) is None
    assert polled(Client(), job["id"]) is None
    assert polled(staff_client, job["id"])["status"] == "SUCCEEDED"


def test_polling_costs_the_same_queries_whatever_the_job(oils, staff_client, imported):
    small = imported(staff_client, to_csv(GOOD[:1]))
    large = imported(staff_client, to_csv(GOOD))
    seen = []
    for job in (small, large):
        with CaptureQueriesContext(connection) as queries:
            assert polled(staff_client, job["id"])["rowsDone"] == job["rowsTotal"]
        seen.append(len(queries))
    assert seen[0] == seen[1]
