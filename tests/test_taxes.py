"""The tax rate table: the calculation (precedence, rounding), the table's
selector, the services, and the staff API through the endpoint."""

from decimal import Decimal

import pytest
from strawberry.relay import to_base64

from apps.accounts.permissions import Perm
from apps.core.errors import ServiceError
from apps.core.money import Money
from apps.taxes import selectors, services
from apps.taxes.calculation import TaxableLine, TaxRule, TaxTable, compute_tax, tax_on
from apps.taxes.models import TaxRate
from tests.conftest import WHO, Client, client_for, client_of, error_codes, make_user, problems
from tests.factories import make_category

pytestmark = pytest.mark.django_db


@pytest.fixture
def tax_client() -> Client:
    return client_for(make_user(perms=[Perm.MANAGE_SHIPPING]))


# ------------------------------------------------------------ the calculation (no database)

# Categories 1 (0001) > 2 (00010001) > 3 (000100010001); 4 (0002) elsewhere.
PATHS = {1: "0001", 2: "00010001", 3: "000100010001", 4: "0002"}


def table(*rules: TaxRule, area: str = "NY") -> TaxTable:
    return TaxTable(country="US", country_area=area, rules=rules, category_paths=PATHS)


@pytest.mark.django_db(False)
def test_the_most_specific_rate_wins():
    rules = (
        TaxRule(rate=Decimal("4")),                                       # the country
        TaxRule(rate=Decimal("8.875"), country_area="NY"),                # the state
        TaxRule(rate=Decimal("0"), category_path="0001"),                 # a category, anywhere
        TaxRule(rate=Decimal("2"), category_path="00010001", country_area="NY"),
        TaxRule(rate=Decimal("9"), country_area="CA"),                    # another state
    )
    ny = table(*rules)
    assert ny.rate_for(None) == Decimal("8.875")  # the state beats the country
    assert ny.rate_for(4) == Decimal("8.875")     # no rule for its category
    assert ny.rate_for(1) == Decimal("0")         # a category rule beats the state's general
    assert ny.rate_for(2) == Decimal("2")         # the deeper category wins
    assert ny.rate_for(3) == Decimal("2")         # ...and holds for its descendants
    nj = table(*rules, area="NJ")
    assert [nj.rate_for(c) for c in (None, 1, 2, 4)] == [Decimal("4"), 0, 0, Decimal("4")]
    assert table(area="NY").rate_for(1) == 0      # no row: no tax
    assert table(TaxRule(rate=Decimal("5"), country_area="ny")).rate_for(None) == 5


@pytest.mark.django_db(False)
def test_tax_is_rounded_half_up_per_line_and_the_lines_add_up():
    assert tax_on(Money.of("0.50"), Decimal("5")) == Money.of("0.03")  # 0.025 up
    assert tax_on(Money.of("0.10"), Decimal("5")) == Money.of("0.01")  # 0.005 up
    lines = [TaxableLine(amount=Money.of("0.10"), category_id=4) for _ in range(3)]
    breakdown = compute_tax(table=table(TaxRule(rate=Decimal("5"))), lines=lines,
                            shipping=Money.of("4.99"))
    assert breakdown.lines == (Money.of("0.01"),) * 3
    assert breakdown.shipping == Money.of("0.25")  # 0.2495
    assert breakdown.total == Money.of("0.28") == sum(breakdown.lines, breakdown.shipping)


@pytest.mark.django_db(False)
def test_a_currency_without_cents_rounds_to_whole_units():
    jpy = compute_tax(table=table(TaxRule(rate=Decimal("10"))),
                      lines=[TaxableLine(amount=Money.of(1005, "JPY"))],
                      shipping=Money.of(15, "JPY"))
    assert (jpy.lines, jpy.shipping, jpy.total) == (
        (Money.of(101, "JPY"),), Money.of(2, "JPY"), Money.of(103, "JPY"))


# ------------------------------------------------------------ the table for a destination


def test_the_table_for_an_address_or_the_default_country(settings, django_assert_num_queries):
    books = make_category(name="Books")
    novels = make_category(name="Novels", parent=books)
    for country, area, category, rate in [("US", "", None, "4"), ("US", "NY", None, "8.875"),
                                          ("US", "", books, "0"), ("DE", "", None, "19")]:
        services.tax_rate_create(actor=None, country=country, country_area=area,
                                 category=category, rate=Decimal(rate))
    with django_assert_num_queries(2):
        ny = selectors.tax_table_for(country="us", country_area="ny",
                                     category_ids=[novels.pk])
    assert ny.rate_for(None) == Decimal("8.875")
    assert ny.rate_for(novels.pk) == 0
    settings.DEFAULT_COUNTRY = "DE"
    assert selectors.tax_table_for(country=None).rate_for(novels.pk) == 19


# ------------------------------------------------------------ services


def test_one_rate_per_place_and_category():
    books = make_category()
    services.tax_rate_create(actor=None, country="US", rate=Decimal("4"))
    services.tax_rate_create(actor=None, country="US", category=books, rate=Decimal("0"))
    for area, category in [("", None), ("", books)]:
        with pytest.raises(ServiceError) as refused:
            services.tax_rate_create(actor=None, country="us", country_area=area,
                                     category=category, rate=Decimal("5"))
        assert [e.code for e in refused.value.errors] == ["UNIQUE"]
    assert TaxRate.objects.count() == 2


def test_rate_input_is_checked():
    with pytest.raises(ServiceError) as refused:
        services.tax_rate_create(actor=None, country="XX", rate=Decimal("100.5"))
    assert [(e.field, e.code) for e in refused.value.errors] == [("country", "INVALID"),
                                                                 ("rate", "INVALID")]
    for bad in ("-1", "1.23456", "NaN"):
        with pytest.raises(ServiceError):
            services.tax_rate_create(actor=None, country="US", rate=Decimal(bad))
    assert services.tax_rate_create(actor=None, country="US", rate=Decimal("100")).rate == 100


# ------------------------------------------------------------ the endpoint

CREATE = """
mutation($input: TaxRateInput!) {
  taxRateCreate(input: $input) {
    taxRate { id country countryArea rate category { name } }
    errors { field message code }
  }
}"""

UPDATE = """
mutation($id: ID!, $input: TaxRateInput!) {
  taxRateUpdate(id: $id, input: $input) {
    taxRate { countryArea rate category { name } } errors { field code }
  }
}"""

DELETE = "mutation($id: ID!) { taxRateDelete(id: $id) { errors { field code } } }"

RATES = """
query($first: Int, $country: String) {
  taxRates(first: $first, country: $country) {
    totalCount edges { node { country countryArea rate category { id name } } }
  }
}"""


def test_staff_create_update_and_delete_rates(tax_client):
    books = make_category(name="Books")
    created = tax_client.execute(CREATE, {"input": {
        "country": "us", "countryArea": "NY", "rate": "8.875",
        "categoryId": to_base64("Category", books.pk)}})["taxRateCreate"]
    assert created["errors"] == []
    assert {k: v for k, v in created["taxRate"].items() if k != "id"} == {
        "country": "US", "countryArea": "NY", "rate": "8.875", "category": {"name": "Books"}}
    rate_id = created["taxRate"]["id"]
    updated = tax_client.execute(UPDATE, {"id": rate_id, "input": {
        "countryArea": None, "categoryId": None, "rate": "4"}})["taxRateUpdate"]
    assert updated == {"taxRate": {"countryArea": "", "rate": "4", "category": None},
                       "errors": []}
    assert tax_client.execute(DELETE, {"id": rate_id}) == {"taxRateDelete": {"errors": []}}
    assert not TaxRate.objects.exists()


def test_bad_rate_input_is_a_coded_payload_error(tax_client):
    assert problems(tax_client.execute(CREATE, {"input": {"country": "Narnia", "rate": "-2"}})[
        "taxRateCreate"]) == [("country", "INVALID"), ("rate", "INVALID")]
    assert problems(tax_client.execute(CREATE, {"input": {}})["taxRateCreate"]) == [
        ("country", "REQUIRED"), ("rate", "REQUIRED")]
    assert problems(tax_client.execute(CREATE, {"input": {
        "country": "US", "rate": "1", "categoryId": to_base64("Category", 999)}})[
        "taxRateCreate"]) == [("categoryId", "NOT_FOUND")]
    tax_client.execute(CREATE, {"input": {"country": "US", "rate": "1"}})
    assert problems(tax_client.execute(CREATE, {"input": {"country": "US", "rate": "2"}})[
        "taxRateCreate"]) == [("country", "UNIQUE")]
    assert problems(tax_client.execute(DELETE, {"id": to_base64("TaxRate", 999)})[
        "taxRateDelete"]) == [("id", "NOT_FOUND")]


@pytest.mark.parametrize("who,code", WHO)
def test_others_may_not_manage_tax(who, code):
    assert error_codes(client_of(who).post(CREATE, {"input": {"country": "US",
                                                              "rate": "1"}})) == [code]
    assert error_codes(client_of(who).post(RATES)) == [code]


@pytest.mark.parametrize("size", [2, 9])
def test_the_rate_list_costs_the_same(tax_client, django_assert_num_queries, size):
    for n in range(size):
        services.tax_rate_create(actor=None, country="US", country_area=f"S{n}",
                                 category=make_category(), rate=Decimal(n))
    services.tax_rate_create(actor=None, country="DE", rate=Decimal(19))
    # The token's user, its permissions (2), the page with its count (the
    # categories joined).
    with django_assert_num_queries(4):
        page = tax_client.execute(RATES, {"first": 50, "country": "us"})["taxRates"]
    assert page["totalCount"] == size
    assert all(edge["node"]["category"] for edge in page["edges"])
