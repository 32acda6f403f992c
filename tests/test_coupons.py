"""Coupons: the services (checks coded on their fields, uses counted), the
admin's GraphQL (the contract's CouponCreate and Coupons, couponUpdate) and
the Django admin."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from strawberry.relay import to_base64

from apps.accounts.permissions import Perm
from apps.core.errors import ErrorCode, ServiceError
from apps.discounts import selectors, services
from apps.discounts.models import Coupon, CouponUse
from apps.discounts.rules import (
    CouponApplies,
    CouponLine,
    CouponRefused,
    Refusal,
    coupon_applicability,
)
from apps.core.money import Money
from tests import contract
from tests.concurrency import in_threads, keeps_default_warehouse  # noqa: F401 - a fixture
from tests.conftest import client_for, make_user, problems
from tests.factories import make_category, make_product

pytestmark = pytest.mark.django_db

# user, permissions (2), the page with its total and used counts, categories,
# products: the same whatever the page's size.
COUPONS_QUERIES = 6


def admin() -> str:
    return contract.operations("admin/orders.graphql", "CouponCreate", "Coupons")


def refused(call) -> list[tuple[str | None, ErrorCode]]:
    with pytest.raises(ServiceError) as caught:
        call()
    return [(e.field, e.code) for e in caught.value.errors]


def create(**fields) -> Coupon:
    values = {"code": "save10", "discount_type": "PERCENTAGE", "value": Decimal(10)}
    return services.coupon_create(actor=None, **{**values, **fields})


# --- Services ------------------------------------------------------------------------------


def test_the_code_is_stored_in_upper_case_and_unique_whatever_the_case():
    coupon = create(code="  summer-10 ")
    assert coupon.code == "SUMMER-10"
    assert refused(lambda: create(code="Summer-10")) == [("code", ErrorCode.UNIQUE)]
    assert selectors.coupon_by_code(code="summer-10") == coupon


@pytest.mark.parametrize(("fields", "expected"), [
    ({"code": ""}, [("code", ErrorCode.REQUIRED)]),
    ({"code": "TWO WORDS"}, [("code", ErrorCode.INVALID)]),
    ({"code": "X" * 51}, [("code", ErrorCode.INVALID)]),
    ({"discount_type": None}, [("discount_type", ErrorCode.REQUIRED)]),
    ({"discount_type": "HALF_OFF"}, [("discount_type", ErrorCode.INVALID)]),
    ({"value": None}, [("value", ErrorCode.REQUIRED)]),
    ({"value": Decimal(0)}, [("value", ErrorCode.INVALID)]),
    ({"value": Decimal("100.01")}, [("value", ErrorCode.INVALID)]),
    ({"value": Decimal("12.345")}, [("value", ErrorCode.INVALID)]),
    ({"value": "ten"}, [("value", ErrorCode.INVALID)]),
    ({"discount_type": "FIXED_AMOUNT", "value": Decimal("-5")}, [("value", ErrorCode.INVALID)]),
    ({"discount_type": "FIXED_AMOUNT", "value": Decimal("5.001")},
     [("value", ErrorCode.INVALID)]),
    ({"discount_type": "FREE_SHIPPING", "value": Decimal(5)}, [("value", ErrorCode.INVALID)]),
    ({"min_subtotal": Decimal("-1")}, [("min_subtotal", ErrorCode.INVALID)]),
    ({"usage_limit": 0}, [("usage_limit", ErrorCode.INVALID)]),
    ({"usage_limit_per_user": -1}, [("usage_limit_per_user", ErrorCode.INVALID)]),
    ({"valid_from": datetime(2026, 2, 1, tzinfo=UTC), "valid_until": datetime(2026, 1, 1, tzinfo=UTC)},
     [("valid_until", ErrorCode.INVALID)]),
    ({"valid_from": datetime.fromisoformat("0001-01-01T00:00:00+14:00")},
     [("valid_from", ErrorCode.INVALID)]),
    ({"code": "", "value": Decimal(0), "usage_limit": 0},
     [("code", ErrorCode.REQUIRED), ("value", ErrorCode.INVALID), ("usage_limit", ErrorCode.INVALID)]),
])
def test_create_refuses_bad_input_on_its_field_and_writes_nothing(fields, expected):
    assert refused(lambda: create(**fields)) == expected
    assert not Coupon.objects.exists()


def test_each_type_with_its_value():
    assert create(code="A", value=Decimal("12.5")).value == Decimal("12.5")
    assert create(code="B", discount_type="FIXED_AMOUNT", value=Decimal("5.00")).value == 5
    assert create(code="C", discount_type="FREE_SHIPPING", value=None).value is None


def test_update_checks_the_coupon_as_it_will_be():
    coupon = create(value=Decimal(50))
    # A new type checks the stored value: free shipping must drop it.
    assert refused(lambda: services.coupon_update(
        actor=None, coupon=coupon, discount_type="FREE_SHIPPING")) == [("value", ErrorCode.INVALID)]
    services.coupon_update(actor=None, coupon=coupon, discount_type="FIXED_AMOUNT")
    services.coupon_update(actor=None, coupon=coupon, discount_type="FREE_SHIPPING", value=None)
    coupon.refresh_from_db()
    assert (coupon.discount_type, coupon.value) == ("FREE_SHIPPING", None)
    services.coupon_update(actor=None, coupon=coupon, is_active=False)
    coupon.refresh_from_db()
    assert not coupon.is_active and coupon.code == "SAVE10"


def test_a_naive_time_is_read_as_utc():
    coupon = create(valid_from=datetime(2026, 1, 1, 9))
    coupon.refresh_from_db()
    assert coupon.valid_from == datetime(2026, 1, 1, 9, tzinfo=UTC)


def test_uses_are_counted_by_email_and_account_and_given_back():
    coupon = create(usage_limit=3, usage_limit_per_user=2)
    ada = make_user(email="ada@example.com")
    services.coupon_use_record(coupon=coupon, order_id=1, email=" ADA@example.com", user=None)
    services.coupon_use_record(coupon=coupon, order_id=2, email="other@example.com", user=ada)
    assert selectors.coupon_use_counts(coupon=coupon, email="ada@example.com", user=ada) == (2, 2)
    assert selectors.coupon_use_counts(coupon=coupon, email="ada@example.com") == (2, 1)
    # Her limit is reached, whichever way she comes.
    assert refused(lambda: services.coupon_use_record(
        coupon=coupon, order_id=3, email="ada@example.com", user=ada
    )) == [("coupon", ErrorCode.INVALID_COUPON)]
    # A guest is known by email alone: "new" has not used it.
    assert selectors.coupon_use_counts(coupon=coupon, email="new@example.com") == (2, 0)
    # The same order again answers its use.
    again = services.coupon_use_record(coupon=coupon, order_id=1, email="ada@example.com")
    assert again.order_id == 1 and CouponUse.objects.count() == 2
    assert services.coupon_use_release(order_id=1) and not services.coupon_use_release(order_id=1)
    assert selectors.coupon_use_counts(coupon=coupon, email="ada@example.com", user=ada) == (1, 1)
    services.coupon_use_record(coupon=coupon, order_id=3, email="b@example.com")
    services.coupon_use_record(coupon=coupon, order_id=4, email="c@example.com")
    assert refused(lambda: services.coupon_use_record(
        coupon=coupon, order_id=5, email="d@example.com")) == [("coupon", ErrorCode.INVALID_COUPON)]


def test_the_terms_feed_the_rules_with_the_scope_and_its_subcategories():
    root = make_category(name="Fragrance")
    child = make_category(name="Perfume", parent=root)
    other = make_category(name="Candles")
    chosen = make_product(category=other)
    coupon = create(categories=[root], products=[chosen])
    terms = selectors.coupon_terms(coupon=coupon)
    child.refresh_from_db()
    lines = [CouponLine(product_id=0, category_path=child.path, quantity=1,
                        unit_price=Money.of(10)),
             CouponLine(product_id=chosen.pk, category_path=other.path, quantity=1,
                        unit_price=Money.of(20)),
             CouponLine(product_id=0, category_path=other.path, quantity=1,
                        unit_price=Money.of(30))]
    answer = coupon_applicability(coupon=terms, lines=lines, now=datetime.now(UTC), uses=0,
                                  uses_by_customer=0)
    assert isinstance(answer, CouponApplies)
    assert [d.amount for d in answer.line_discounts] == [Decimal("1.00"), Decimal("2.00"),
                                                         Decimal("0.00")]


def test_coupon_check_reads_the_terms_and_the_counts(django_assert_num_queries):
    coupon = create(usage_limit_per_user=1, products=[make_product()])
    product = coupon.products.get()
    services.coupon_use_record(coupon=coupon, order_id=1, email="ada@example.com")
    lines = [CouponLine(product_id=product.pk, category_path=None, quantity=2,
                        unit_price=Money.of("4.99"))]
    now = datetime.now(UTC)
    with django_assert_num_queries(3):
        answer = selectors.coupon_check(coupon=coupon, lines=lines, email="bo@example.com",
                                        now=now)
    assert isinstance(answer, CouponApplies) and answer.total == Money.of("1.00")
    refusal = selectors.coupon_check(coupon=coupon, lines=lines, email="Ada@example.com ",
                                     now=now)
    assert isinstance(refusal, CouponRefused) and refusal.reason == Refusal.USED_UP_BY_CUSTOMER


# --- GraphQL -----------------------------------------------------------------------------------


def marketing():
    return client_for(make_user(perms=[Perm.MANAGE_DISCOUNTS]))


def test_coupon_create_through_the_contract_document():
    category, product = make_category(), make_product()
    data = marketing().execute(admin(), {"input": {
        "code": "welcome5", "discountType": "FIXED_AMOUNT", "value": "5.00",
        "minSubtotal": "20.00", "usageLimit": 100, "usageLimitPerUser": 1,
        "validFrom": "2026-01-01T00:00:00Z", "validUntil": "2027-01-01T00:00:00Z",
        "categoryIds": [to_base64("Category", category.pk)],
        "productIds": [to_base64("Product", product.pk)],
    }}, operation_name="CouponCreate")["couponCreate"]
    assert data["errors"] == []
    assert data["coupon"] == {"id": data["coupon"]["id"], "code": "WELCOME5",
                              "discountType": "FIXED_AMOUNT", "value": "5.00", "usedCount": 0}
    coupon = Coupon.objects.get()
    assert list(coupon.categories.all()) == [category] and list(coupon.products.all()) == [product]
    assert coupon.min_subtotal == Decimal("20.00") and coupon.is_active


def test_coupon_create_refusals_are_coded_on_camel_case_fields():
    client = marketing()
    data = client.execute(admin(), {"input": {
        "code": "", "discountType": "PERCENTAGE", "value": "120", "usageLimitPerUser": 0,
        "categoryIds": [to_base64("Category", 999)],
    }}, operation_name="CouponCreate")["couponCreate"]
    assert data["coupon"] is None
    assert problems(data) == [("categoryIds.0", "NOT_FOUND")]
    data = client.execute(admin(), {"input": {
        "code": "", "discountType": "PERCENTAGE", "value": "120", "usageLimitPerUser": 0,
    }}, operation_name="CouponCreate")["couponCreate"]
    assert problems(data) == [("code", "REQUIRED"), ("value", "INVALID"),
                              ("usageLimitPerUser", "INVALID")]
    data = client.execute(admin(), {"input": {
        "code": "late", "discountType": "FREE_SHIPPING",
        "validUntil": "9999-12-31T23:59:59-14:00",
    }}, operation_name="CouponCreate")["couponCreate"]
    assert problems(data) == [("validUntil", "INVALID")]
    data = client.execute(admin(), {"input": {"discountType": "FREE_SHIPPING"}},
                          operation_name="CouponCreate")["couponCreate"]
    assert problems(data) == [("code", "REQUIRED")]
    assert not Coupon.objects.exists()


UPDATE = """
mutation ($id: ID!, $input: CouponInput!) {
  couponUpdate(id: $id, input: $input) {
    coupon { id code isActive value discountType minSubtotal { amount currency }
             categories { slug } usedCount }
    errors { field message code }
  }
}"""


def test_coupon_update_deactivates_and_changes_only_what_is_given():
    coupon = create(min_subtotal=Decimal(15), categories=[make_category(slug="gifts")])
    services.coupon_use_record(coupon=coupon, order_id=7, email="ada@example.com")
    client = marketing()
    gid = to_base64("Coupon", coupon.pk)
    data = client.execute(UPDATE, {"id": gid, "input": {"isActive": False}})["couponUpdate"]
    assert data["errors"] == []
    assert data["coupon"] == {"id": gid, "code": "SAVE10", "isActive": False, "value": "10.00",
                              "discountType": "PERCENTAGE",
                              "minSubtotal": {"amount": "15.00", "currency": "USD"},
                              "categories": [{"slug": "gifts"}], "usedCount": 1}
    data = client.execute(UPDATE, {"id": gid, "input": {"code": "save10", "categoryIds": [],
                                                        "minSubtotal": None}})["couponUpdate"]
    assert data["errors"] == [] and data["coupon"]["categories"] == []
    assert data["coupon"]["minSubtotal"] is None
    create(code="OTHER")
    data = client.execute(UPDATE, {"id": gid, "input": {"code": "other"}})["couponUpdate"]
    assert problems(data) == [("code", "UNIQUE")]
    data = client.execute(UPDATE, {"id": to_base64("Coupon", 999), "input": {}})["couponUpdate"]
    assert problems(data) == [("id", "NOT_FOUND")]


def test_coupons_are_for_marketing_only(customer_client):
    coupon = create()
    gid = to_base64("Coupon", coupon.pk)
    query = "query ($id: ID!) { node(id: $id) { ... on Coupon { code usedCount } } }"
    assert customer_client.execute(query, {"id": gid})["node"] is None
    assert client_for(make_user(perms=[Perm.MANAGE_PRODUCTS])).execute(
        query, {"id": gid})["node"] is None
    assert marketing().execute(query, {"id": gid})["node"] == {"code": "SAVE10", "usedCount": 0}


def seed_coupons(size: int) -> None:
    categories = [make_category() for _ in range(2)]
    products = [make_product() for _ in range(2)]
    for n in range(size):
        coupon = create(code=f"C{n}", usage_limit=10, categories=categories, products=products)
        for order in range(n % 3):
            services.coupon_use_record(coupon=coupon, order_id=n * 10 + order,
                                       email=f"{order}@example.com")


@pytest.mark.parametrize("size", [3, 12])
@pytest.mark.parametrize("first", [10, 100])
def test_the_coupon_list_costs_the_same_whatever_its_size(django_assert_num_queries, size, first):
    seed_coupons(size)
    client = marketing()
    document = admin().replace("isActive\n", "isActive\ncategories { id }\nproducts { id }\n", 1)
    assert "categories { id }" in document
    with django_assert_num_queries(COUPONS_QUERIES):
        data = client.execute(document, {"first": first}, operation_name="Coupons")["coupons"]
    nodes = [edge["node"] for edge in data["edges"]]
    assert data["totalCount"] == size and len(nodes) == min(size, first)
    assert nodes[0]["code"] == f"C{size - 1}"  # newest first
    assert [node["usedCount"] for node in nodes] == [(size - 1 - i) % 3 for i in range(len(nodes))]
    assert all(len(node["categories"]) == 2 and len(node["products"]) == 2 for node in nodes)


def test_the_coupon_list_stays_well_under_the_cost_limit(settings):
    result = marketing().post(admin(), {"first": 100}, operation_name="Coupons")
    assert result["extensions"]["cost"]["requestedQueryCost"] <= settings.GRAPHQL_MAX_COST / 5


# --- Django admin --------------------------------------------------------------------------


def coupon_form(**fields) -> dict:
    return {"code": "admin5", "discount_type": "FIXED_AMOUNT", "value": "5", "min_subtotal": "",
            "valid_from_0": "", "valid_from_1": "", "valid_until_0": "", "valid_until_1": "",
            "is_active": "on", "usage_limit": "", "usage_limit_per_user": "", **fields}


def test_the_django_admin_writes_through_the_services(admin_client):
    response = admin_client.post("/admin/discounts/coupon/add/", coupon_form())
    assert response.status_code == 302, response.context["adminform"].form.errors
    coupon = Coupon.objects.get()
    assert (coupon.code, coupon.value) == ("ADMIN5", Decimal("5.00"))
    response = admin_client.post("/admin/discounts/coupon/add/",
                                 coupon_form(code="Admin5", value="0"))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["code"] == ["The code ADMIN5 is taken."]
    assert errors["value"] == ["An amount above 0."]
    assert admin_client.get("/admin/discounts/coupon/").status_code == 200
    assert Coupon.objects.count() == 1


# --- Racing for the last use (PostgreSQL: real row locks) -----------------------------------


@pytest.mark.postgresql
@pytest.mark.usefixtures("keeps_default_warehouse", "transactional_db")
def test_checkouts_racing_for_the_last_uses_take_exactly_the_limit():
    coupon = create(usage_limit=3)

    def place(index: int) -> CouponUse:
        return services.coupon_use_record(coupon=coupon, order_id=index,
                                          email=f"buyer{index}@example.com")

    results = in_threads(8, place)
    refusals = [r for r in results if isinstance(r, ServiceError)]
    assert len(refusals) == 5, results
    assert all(r.errors[0].code == ErrorCode.INVALID_COUPON for r in refusals)
    assert CouponUse.objects.filter(coupon=coupon).count() == 3


@pytest.mark.postgresql
@pytest.mark.usefixtures("keeps_default_warehouse", "transactional_db")
def test_one_customer_racing_themself_gets_the_per_customer_limit():
    coupon = create(usage_limit_per_user=1)
    results = in_threads(6, lambda index: services.coupon_use_record(
        coupon=coupon, order_id=index, email="ADA@example.com"))
    assert len([r for r in results if isinstance(r, CouponUse)]) == 1, results
    assert CouponUse.objects.filter(coupon=coupon, email="ada@example.com").count() == 1


def test_the_django_admin_changes_a_coupon_through_coupon_update(admin_client):
    coupon = create(discount_type="FIXED_AMOUNT", value=Decimal(5))
    category = make_category()
    url = f"/admin/discounts/coupon/{coupon.pk}/change/"
    response = admin_client.post(url, coupon_form(code="save10", is_active="",
                                                  categories=[category.pk]))
    assert response.status_code == 302, response.context["adminform"].form.errors
    coupon.refresh_from_db()
    assert not coupon.is_active and list(coupon.categories.all()) == [category]
    response = admin_client.post(url, coupon_form(code="save10", discount_type="FREE_SHIPPING"))
    assert response.context["adminform"].form.errors["value"] == [
        "A free-shipping coupon takes no value."]
    coupon.refresh_from_db()
    assert coupon.discount_type == "FIXED_AMOUNT"


def test_the_demo_has_a_coupon_of_each_kind_and_reseeding_adds_none():
    from apps.demo.coupons import seed_coupons
    from apps.demo.seed import seed_demo

    seed_demo(products=4)
    coupons = {c.code: c for c in Coupon.objects.all()}
    assert {c.discount_type for c in coupons.values()} == {"PERCENTAGE", "FIXED_AMOUNT",
                                                           "FREE_SHIPPING"}
    assert not coupons["PAUSED"].is_active
    assert any(c.categories.exists() for c in coupons.values())
    assert seed_coupons() == 0 and Coupon.objects.count() == len(coupons) == 6


def test_the_database_refuses_a_percentage_without_a_value():
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Coupon.objects.create(code="RAW", discount_type="PERCENTAGE", value=None)
