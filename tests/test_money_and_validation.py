"""The money value and the shared checks, without GraphQL; and that the
services refuse edits of a deleted product whatever the caller."""

from decimal import Decimal

import pytest

from apps.catalog import services
from apps.catalog.models import Product, ProductVariant
from apps.core.errors import ErrorCode, ServiceError
from apps.core.money import CurrencyMismatch, Money, currency_places, quantize
from apps.core.validation import (
    SENTENCES,
    Problems,
    Reason,
    clean_attributes,
    clean_count,
    clean_options,
    clean_price,
    clean_slug,
    decimal_limits,
    max_length,
    max_value,
    normalize_email,
)
from apps.inventory.models import Stock
from tests.factories import make_media, make_product, make_variant

# --- Money ---------------------------------------------------------------------------------


def test_currency_places_come_from_babel():
    assert [currency_places(c) for c in ("USD", "eur", "JPY", "BHD", "KWD")] == [2, 2, 0, 3, 3]


def test_one_rounding_rule_half_up_to_the_currency_places():
    assert quantize("0.125", "USD") == Decimal("0.13")
    assert quantize("0.125", "USD") != Decimal("0.12")  # half-even would give 0.12
    assert quantize("2.5", "JPY") == Decimal("3")
    assert quantize("1.0005", "BHD") == Decimal("1.001")
    assert Money.of("19.999", "usd") == Money(Decimal("20.00"), "USD")


def test_money_is_an_immutable_value_with_arithmetic_in_one_currency():
    price = Money.of("10.10", "EUR")
    assert price + Money.of("0.90", "EUR") == Money.of(11, "EUR")
    assert price - Money.of("0.10", "EUR") == Money.of(10, "EUR")
    assert price * 3 == 3 * price == Money.of("30.30", "EUR")
    assert (price / 3).rounded() == Money.of("3.37", "EUR")
    assert price / Money.of("5.05", "EUR") == 2
    assert -price < Money.zero("EUR") < price and not Money.zero("EUR")
    assert hash(Money.of("1", "EUR")) == hash(Money(Decimal("1.00"), "EUR"))
    with pytest.raises(CurrencyMismatch):
        price + Money.of(1, "USD")
    with pytest.raises(CurrencyMismatch):
        assert price < Money.of(1, "USD")
    with pytest.raises(AttributeError):
        price.amount = Decimal(1)  # type: ignore[misc]
    with pytest.raises(ValueError):
        Money(Decimal("NaN"), "EUR")
    with pytest.raises(ValueError):
        Money(Decimal(1), "euro")


def test_a_variant_gives_its_prices_as_money(db, settings):
    settings.DEFAULT_CURRENCY = "EUR"
    variant = make_variant(product=make_product(), price="24.50")
    assert variant.price_money == Money(Decimal("24.50"), "EUR")
    assert variant.compare_at_price_money is None


# --- Limits and checks ------------------------------------------------------------------


def test_limits_are_read_from_the_model_fields():
    assert max_length(Product, "seo_description") == 500
    assert max_length(ProductVariant, "sku") == 64
    assert max_value(Stock, "quantity_on_hand") == max_value(ProductVariant, "weight_grams") == 2**31 - 1
    assert decimal_limits(ProductVariant, "price") == (2, Decimal(10) ** 10)


def reasons(check, *args, **kwargs) -> tuple[object, list[tuple[str | None, str]]]:
    problems = Problems()
    value = check(problems, *args, **kwargs)
    return value, [(error.field, error.message) for error in problems.errors]


@pytest.mark.parametrize(("value", "expected"), [
    ("24.50", (Decimal("24.50"), [])),
    (Decimal("0"), (Decimal("0"), [])),
    ("x", (None, [("price", "Not a number.")])),
    ("NaN", (None, [("price", "Not a number.")])),
    ("-1", (None, [("price", "Must not be negative.")])),
    ("1.005", (None, [("price", "At most 2 decimal places.")])),
    ("10000000000", (None, [("price", "Too large.")])),
    (None, (None, [("price", "This field is required.")])),
])
def test_clean_price(value, expected):
    column = decimal_limits(ProductVariant, "price")
    assert reasons(clean_price, "price", value, column=column, required=True) == expected


def test_clean_price_keeps_to_the_currency_places():
    column = decimal_limits(ProductVariant, "price")
    assert reasons(clean_price, "price", "5.5", column=column, required=True,
                   currency="JPY") == (None, [("price", "At most 0 decimal places.")])
    # The column has 2 places: a 3-place currency still gets at most 2.
    assert reasons(clean_price, "price", "5.505", column=column, required=True,
                   currency="BHD") == (None, [("price", "At most 2 decimal places.")])


def test_clean_count_reads_text_and_keeps_to_the_column():
    limit = max_value(Stock, "quantity_on_hand")
    assert reasons(clean_count, "stock", "12", limit=limit) == (12, [])
    assert reasons(clean_count, "stock", True, limit=limit) == (
        None, [("stock", "Must be a whole number.")])
    assert reasons(clean_count, "stock", -1, limit=limit) == (
        None, [("stock", "Must not be negative.")])
    assert reasons(clean_count, "stock", limit + 1, limit=limit) == (None, [("stock", "Too large.")])


def test_clean_slug_and_attributes_and_options():
    assert reasons(clean_slug, "slug", " rose-oil ", limit=255) == ("rose-oil", [])
    assert reasons(clean_slug, "slug", "rose oil", limit=255)[1] == [
        ("slug", "Use only letters, numbers, hyphens and underscores.")]
    assert reasons(clean_attributes, [{"name": " Notes ", "values": ["a", " "]},
                                      {"name": "Notes", "values": []}]) == (
        {"Notes": ["a"]}, [("attributes.1.name", "'Notes' is given twice.")])
    assert reasons(clean_options, [{"name": "Size", "value": ""}], field="variants.0.options") == (
        [{"name": "Size", "value": ""}],
        [("variants.0.options.0", "An option needs a name and a value.")])


def test_a_wording_changes_the_words_not_the_rule():
    problems = Problems(wording={**SENTENCES, Reason.NEGATIVE: "must be ≥ 0"})
    clean_count(problems, "stock", -3, limit=10)
    assert [(e.field, e.message, e.code) for e in problems.errors] == [
        ("stock", "must be ≥ 0", ErrorCode.INVALID)]


def test_emails_are_normalised_one_way():
    assert normalize_email("  Ada@Example.COM ") == "ada@example.com"
    assert normalize_email(None) == ""


# --- A deleted product takes no edits, whoever calls --------------------------------------


@pytest.fixture
def deleted(db):
    product = make_product()
    variant = make_variant(product=product)
    media = make_media(product=product)
    services.product_delete(actor=None, product=product)
    variant.refresh_from_db()
    media.refresh_from_db()
    return product, variant, media


@pytest.mark.parametrize("edit", [
    lambda product, variant, media: services.product_update(actor=None, product=product,
                                                           name="New"),
    lambda product, variant, media: services.variant_create(actor=None, product=product,
                                                           sku="NEW-1", price=Decimal(1)),
    lambda product, variant, media: services.variant_update(actor=None, variant=variant,
                                                           name="New"),
    lambda product, variant, media: services.media_update(actor=None, media=media, alt="x"),
    lambda product, variant, media: services.media_update(actor=None, media=media, position=0),
    lambda product, variant, media: services.media_delete(actor=None, media=media),
    lambda product, variant, media: services.product_delete(actor=None, product=product),
], ids=["product_update", "variant_create", "variant_update", "media_update_alt",
        "media_update_position", "media_delete", "product_delete"])
def test_services_refuse_edits_of_a_deleted_product(deleted, edit):
    product, variant, media = deleted
    with pytest.raises(ServiceError) as caught:
        edit(product, variant, media)
    assert [(e.code, e.message) for e in caught.value.errors] == [
        (ErrorCode.NOT_FOUND, "This product was deleted.")]
    media.refresh_from_db()
    assert media.alt == "" and Product.objects.get(pk=product.pk).name == product.name


def test_every_voice_words_every_reason():
    from apps.catalog.csv_io import CELL_WORDING

    assert set(SENTENCES) == set(CELL_WORDING) == set(Reason)


@pytest.mark.parametrize(("cell", "api", "csv"), [
    ("-1", "Must not be negative.", "must be ≥ 0"),
    ("1.234", "At most 2 decimal places.", "at most 2 decimal places"),
    ("abc", "Not a number.", "'abc' is not a number"),
    ("10000000000", "Too large.", "too large"),
])
def test_a_price_is_judged_alike_by_the_api_and_the_csv(cell, api, csv):
    from apps.catalog.csv_io import CELL_WORDING

    column = decimal_limits(ProductVariant, "price")
    spoken = []
    for wording in (SENTENCES, CELL_WORDING):
        problems = Problems(wording=wording)
        clean_price(problems, "price", cell, column=column, required=True)
        spoken.append([(e.field, e.message, e.code) for e in problems.errors])
    assert spoken == [[("price", api, ErrorCode.INVALID)], [("price", csv, ErrorCode.INVALID)]]
