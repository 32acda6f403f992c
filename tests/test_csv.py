import csv
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from apps.catalog import services
from apps.catalog.csv_io import COLUMNS, ProductImportError, export_products, import_products
from apps.demo.seed import seed_demo
from apps.catalog.models import Category, Product, ProductVariant
from apps.core.errors import ErrorCode, ServiceError
from apps.inventory.models import Stock, StockMovement

pytestmark = pytest.mark.django_db


def export_text() -> str:
    out = io.StringIO()
    export_products(file=out)
    return out.getvalue()


def run_import(text: str, **kwargs):
    return import_products(actor=None, file=io.StringIO(text), **kwargs)


def to_csv(rows: list[dict], columns=COLUMNS) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def row(**cells) -> dict:
    base = {
        "slug": "rose-oil", "name": "Rose Oil", "category_slug": "oils", "description": "<p>Rosy.</p>",
        "is_published": "true", "attributes": '{"Notes": ["rose"]}', "sku": "RO-1",
        "variant_name": "10 ml", "options": '[{"name": "Size", "value": "10 ml"}]',
        "price": "12.50", "compare_at_price": "", "stock": "7", "low_stock_threshold": "2",
    }
    return base | cells


@pytest.fixture
def oils():
    return Category.objects.add_root({"name": "Oils", "slug": "oils"})


def counts():
    return (Product.objects.count(), ProductVariant.objects.count(), Stock.objects.count(),
            StockMovement.objects.count(), list(Stock.objects.values_list("quantity_on_hand", flat=True)))


def test_export_then_import_changes_nothing():
    seed_demo(products=6, seed=3)
    exported = export_text()
    before = counts()
    result = run_import(exported)
    assert result.rows == ProductVariant.objects.count()
    assert not result.changed
    assert counts() == before
    assert export_text() == exported


def test_import_creates_products_variants_and_import_movements(oils):
    text = to_csv([
        row(),
        row(sku="RO-2", variant_name="30 ml", options='{"Size": "30 ml"}', price="29",
            compare_at_price="35.00", stock="0", low_stock_threshold=""),
        row(slug="neroli", name="Neroli", category_slug="", attributes="", sku="NE-1",
            options="", is_published="false", stock="3"),
    ])
    result = run_import(text, source="new.csv")
    assert (result.products_created, result.variants_created, result.stock_movements) == (2, 3, 2)

    rose = Product.objects.get(slug="rose-oil")
    assert rose.category == oils and rose.is_published and rose.published_at
    assert rose.attributes == {"Notes": ["rose"]}
    small, large = rose.variants.order_by("sort_order")
    assert (small.sku, small.price, small.low_stock_threshold) == ("RO-1", Decimal("12.50"), 2)
    assert large.options == [{"name": "Size", "value": "30 ml"}]
    assert large.compare_at_price == Decimal("35.00") and large.low_stock_threshold == 5
    assert small.stocks.get(warehouse__is_default=True).quantity_on_hand == 7
    assert large.stocks.get(warehouse__is_default=True).quantity_on_hand == 0
    movement = StockMovement.objects.get(stock__variant=small)
    assert (movement.kind, movement.quantity_delta) == (StockMovement.Kind.IMPORT, 7)
    assert movement.reference == "import:new.csv:2"

    neroli = Product.objects.get(slug="neroli")
    assert neroli.category is None and not neroli.is_published and neroli.attributes == {}


def test_import_updates_what_changed_and_moves_stock_by_the_difference(oils):
    run_import(to_csv([row(), row(sku="RO-2", variant_name="30 ml")]))
    result = run_import(to_csv([row(price="13.00", stock="4"), row(sku="RO-2", variant_name="30 ml"),
                                row(sku="RO-3", variant_name="50 ml", stock="1")]))
    assert (result.products_created, result.products_updated) == (0, 0)
    assert (result.variants_created, result.variants_updated, result.stock_movements) == (1, 1, 2)
    variant = ProductVariant.objects.get(sku="RO-1")
    assert variant.price == Decimal("13.00")
    assert variant.stocks.get().quantity_on_hand == 4
    latest = StockMovement.objects.filter(stock__variant=variant).order_by("-id").first()
    assert (latest.kind, latest.quantity_delta) == (StockMovement.Kind.IMPORT, -3)

    run_import(to_csv([row(name="Rose Oil Deluxe", stock=""), row(sku="RO-2", name="Rose Oil Deluxe")]))
    assert Product.objects.get(slug="rose-oil").name == "Rose Oil Deluxe"
    assert ProductVariant.objects.get(sku="RO-1").stocks.get().quantity_on_hand == 4  # blank: unchanged


def test_columns_left_out_are_left_alone(oils):
    run_import(to_csv([row(compare_at_price="20.00")]))
    run_import(to_csv([{"slug": "rose-oil", "name": "Rose Oil", "sku": "RO-1", "price": "11.00"}],
                      columns=["slug", "name", "sku", "price"]))
    variant = ProductVariant.objects.get(sku="RO-1")
    assert (variant.price, variant.compare_at_price) == (Decimal("11.00"), Decimal("20.00"))
    assert variant.product.category == oils and variant.stocks.get().quantity_on_hand == 7


def test_a_bad_row_reports_every_problem_and_writes_nothing(oils):
    run_import(to_csv([row()]))
    before = counts()
    text = to_csv([
        row(slug="fine", sku="F-1", price="99.00"),
        row(sku="RO-1", price="-1", stock="many"),
        row(slug="bad slug!", sku="X-1", category_slug="nowhere", options="[1]", attributes="{"),
        row(slug="fine", name="Other name", sku="F-1", compare_at_price="1.234", is_published="maybe"),
    ])
    with pytest.raises(ProductImportError) as caught:
        run_import(text)
    messages = [str(e) for e in caught.value.row_errors]
    assert "row 3: price: must be ≥ 0" in messages
    assert "row 3: stock: 'many' is not a whole number" in messages
    assert any(m.startswith("row 4: slug:") for m in messages)
    assert "row 4: category_slug: no category 'nowhere'" in messages
    assert any(m.startswith("row 4: options:") for m in messages)
    assert any(m.startswith("row 4: attributes: not valid JSON") for m in messages)
    assert "row 5: sku: 'F-1' is also on row 2" in messages
    assert "row 5: compare_at_price: at most 2 decimal places" in messages
    assert "row 5: is_published: use true or false" in messages
    assert "row 5: name: differs from row 2 (rows of one product must agree)" in messages
    assert not any(m.startswith("row 2") for m in messages)
    assert counts() == before
    assert not Product.objects.filter(slug="fine").exists()


def test_refuses_a_sku_of_another_product_and_stock_below_allocated(oils):
    run_import(to_csv([row()]))
    Stock.objects.filter(variant__sku="RO-1").update(quantity_allocated=5)
    with pytest.raises(ProductImportError) as caught:
        run_import(to_csv([row(stock="4"), row(slug="other", name="Other", sku="RO-1")]))
    messages = [str(e) for e in caught.value.row_errors]
    assert "row 2: stock: must be ≥ 5, the quantity allocated to orders" in messages
    assert "row 3: sku: 'RO-1' belongs to the product 'rose-oil'" in messages


def test_a_refusal_by_a_service_becomes_a_row_error_and_rolls_back(oils, monkeypatch):
    def refuse(**kwargs):
        raise ServiceError("The SKU 'NE-1' is taken.", code=ErrorCode.UNIQUE, field="variants.0.sku")

    monkeypatch.setattr(services, "variant_create", refuse)
    before = counts()
    with pytest.raises(ProductImportError) as caught:
        run_import(to_csv([row(slug="neroli", sku="NE-1")]))
    assert [str(e) for e in caught.value.row_errors] == ["row 2: sku: The SKU 'NE-1' is taken."]
    assert caught.value.errors[0].code == ErrorCode.UNIQUE
    assert counts() == before


def test_bad_header_is_refused():
    with pytest.raises(ProductImportError) as caught:
        run_import("slug,name,prcie,sku\nx,X,1,S\n")
    assert [str(e) for e in caught.value.row_errors] == [
        "row 1: unknown column 'prcie'", "row 1: missing column 'price'"]


def test_dry_run_counts_but_writes_nothing(oils):
    before = counts()
    result = run_import(to_csv([row(), row(sku="RO-2")]), dry_run=True)
    assert result.dry_run and (result.products_created, result.variants_created) == (1, 2)
    assert counts() == before


def test_commands_round_trip_and_report_row_errors(tmp_path, oils, capsys):
    run_import(to_csv([row()]))
    path = tmp_path / "products.csv"
    call_command("export_products", str(path), verbosity=0)
    assert path.read_text().splitlines()[0] == ",".join(COLUMNS)

    call_command("import_products", str(path), dry_run=True, verbosity=0)
    assert "Would import 1 rows" in capsys.readouterr().out

    path.write_text(to_csv([row(price="-2")]))
    with pytest.raises(CommandError, match="1 problem"):
        call_command("import_products", str(path), verbosity=0)
    assert "row 2: price: must be ≥ 0" in capsys.readouterr().err
    assert ProductVariant.objects.get(sku="RO-1").price == Decimal("12.50")
