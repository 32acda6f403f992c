"""The coupon rules the checkout will call, as pure functions: no database."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.core.money import Money
from apps.discounts.rules import (
    CouponApplies,
    CouponLine,
    CouponRefused,
    CouponTerms,
    Refusal,
    coupon_applicability,
    normalize_code,
    spread,
)

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def terms(**fields) -> CouponTerms:
    values = dict(code="SAVE", discount_type="PERCENTAGE", value=Decimal(10), min_subtotal=None,
                  valid_from=None, valid_until=None, is_active=True, usage_limit=None,
                  usage_limit_per_user=None)
    return CouponTerms(**{**values, **fields})


def line(price: str, quantity: int = 1, *, product_id: int = 1, path: str | None = "0001",
         currency: str = "USD") -> CouponLine:
    return CouponLine(product_id=product_id, category_path=path, quantity=quantity,
                      unit_price=Money(Decimal(price), currency))


def apply(coupon: CouponTerms, lines: list[CouponLine], *, uses: int = 0, mine: int = 0,
          now: datetime = NOW) -> CouponApplies | CouponRefused:
    return coupon_applicability(coupon=coupon, lines=lines, now=now, uses=uses,
                                uses_by_customer=mine)


def amounts(answer) -> list[str]:
    assert isinstance(answer, CouponApplies), answer
    return [str(discount.amount) for discount in answer.line_discounts]


def test_codes_are_case_insensitive():
    assert normalize_code("  summer-10 ") == "SUMMER-10"


@pytest.mark.parametrize(("coupon", "lines", "uses", "mine", "reason", "words"), [
    (terms(is_active=False), [line("10")], 0, 0, Refusal.INACTIVE, "not active"),
    (terms(valid_from=NOW + timedelta(seconds=1)), [line("10")], 0, 0, Refusal.NOT_YET_VALID,
     "not valid yet"),
    (terms(valid_until=NOW), [line("10")], 0, 0, Refusal.EXPIRED, "expired"),
    (terms(usage_limit=3), [line("10")], 3, 0, Refusal.USED_UP, "used up"),
    (terms(usage_limit_per_user=1), [line("10")], 1, 1, Refusal.USED_UP_BY_CUSTOMER,
     "already used"),
    (terms(product_ids=frozenset({2})), [line("10")], 0, 0, Refusal.NOTHING_APPLIES,
     "applies to nothing"),
    (terms(), [], 0, 0, Refusal.NOTHING_APPLIES, "applies to nothing"),
    (terms(min_subtotal=Money.of(50)), [line("49.99")], 0, 0, Refusal.MINIMUM_NOT_MET,
     "at least 50.00 USD"),
])
def test_each_refusal_says_why(coupon, lines, uses, mine, reason, words):
    answer = apply(coupon, lines, uses=uses, mine=mine)
    assert isinstance(answer, CouponRefused)
    assert answer.reason == reason and words in answer.message and "SAVE" in answer.message


def test_inside_the_window_and_the_limits_it_applies():
    coupon = terms(valid_from=NOW, valid_until=NOW + timedelta(days=1), usage_limit=3,
                   usage_limit_per_user=1, min_subtotal=Money.of(10))
    assert amounts(apply(coupon, [line("10")], uses=2, mine=0)) == ["1.00"]


def test_the_minimum_counts_only_the_lines_in_scope_before_discount():
    coupon = terms(category_paths=frozenset({"0001"}), min_subtotal=Money.of(30))
    inside, outside = line("20", path="00010003"), line("100", product_id=2, path="0002")
    refused = apply(coupon, [inside, outside])
    assert isinstance(refused, CouponRefused) and refused.reason == Refusal.MINIMUM_NOT_MET
    assert "of the items it applies to" in refused.message
    assert amounts(apply(coupon, [line("15", 2, path="00010003"), outside])) == ["3.00", "0.00"]


def test_scope_takes_subcategories_and_products():
    coupon = terms(category_paths=frozenset({"0001"}), product_ids=frozenset({9}))
    lines = [line("10", path="00010002"), line("10", product_id=9, path="0005"),
             line("10", product_id=3, path="0002"), line("10", product_id=4, path=None),
             line("10", product_id=5, path="0001")]
    assert amounts(apply(coupon, lines)) == ["1.00", "1.00", "0.00", "0.00", "1.00"]


def test_percentage_rounds_each_line_half_up():
    # 10% of 0.05 is 0.005: 0.01 a line, 0.03 in all (10% of the 0.15 total
    # would round to 0.02): the coupon's discount is the sum of the lines'.
    answer = apply(terms(), [line("0.05"), line("0.05"), line("0.05")])
    assert amounts(answer) == ["0.01", "0.01", "0.01"]
    assert isinstance(answer, CouponApplies) and answer.total == Money.of("0.03")


def test_percentage_follows_the_currency_places():
    answer = apply(terms(value=Decimal("12.5")), [line("1001", currency="JPY")])
    assert amounts(answer) == ["125"]


def test_fixed_amount_leftover_cent_goes_to_the_largest_line():
    # 10.00 over 10, 20, 30: 1.666.., 3.333.., 5.00 -> 1.66, 3.33, 5.00 + 0.01.
    answer = apply(terms(discount_type="FIXED_AMOUNT", value=Decimal(10)),
                   [line("10"), line("20"), line("30")])
    assert amounts(answer) == ["1.66", "3.33", "5.01"]


def test_fixed_amount_is_never_more_than_the_lines():
    answer = apply(terms(discount_type="FIXED_AMOUNT", value=Decimal(50)),
                   [line("12.34"), line("5", 2, product_id=2)])
    assert amounts(answer) == ["12.34", "10.00"]


def test_fixed_amount_spares_the_lines_outside_its_scope():
    answer = apply(terms(discount_type="FIXED_AMOUNT", value=Decimal(5),
                         product_ids=frozenset({1})),
                   [line("10"), line("90", product_id=2)])
    assert amounts(answer) == ["5.00", "0.00"]


def test_free_shipping_takes_nothing_off_the_lines():
    answer = apply(terms(discount_type="FREE_SHIPPING", value=None), [line("10"), line("3")])
    assert isinstance(answer, CouponApplies) and answer.free_shipping
    assert amounts(answer) == ["0.00", "0.00"]


def test_a_coupon_in_another_currency_than_the_lines_does_not_mix():
    from apps.core.money import CurrencyMismatch

    with pytest.raises(CurrencyMismatch):
        apply(terms(min_subtotal=Money.of(5, "EUR")), [line("10")])


# --- Property: line discounts add up -----------------------------------------------------

cents = st.integers(min_value=1, max_value=10_000_000).map(lambda n: Decimal(n).scaleb(-2))
lines_strategy = st.lists(
    st.tuples(cents, st.integers(min_value=1, max_value=20), st.booleans()),
    min_size=1, max_size=12,
).filter(lambda rows: any(inside for _, _, inside in rows))


def build(rows) -> list[CouponLine]:
    return [line(str(price), quantity, product_id=1 if inside else 2)
            for price, quantity, inside in rows]


@given(rows=lines_strategy, value=cents)
def test_fixed_amount_line_discounts_add_up_to_the_coupon_or_the_lines(rows, value):
    lines = build(rows)
    answer = apply(terms(discount_type="FIXED_AMOUNT", value=value, product_ids=frozenset({1})),
                   lines)
    assert isinstance(answer, CouponApplies)
    in_scope = sum((ln.total.amount for ln in lines if ln.product_id == 1), Decimal(0))
    assert answer.total == Money.of(min(value, in_scope))
    for ln, discount in zip(lines, answer.line_discounts):
        assert Money.zero() <= discount <= ln.total
        assert discount.amount == discount.rounded().amount
        if ln.product_id != 1:
            assert discount == Money.zero()


@given(rows=lines_strategy, rate=st.integers(min_value=1, max_value=10_000).map(
    lambda n: Decimal(n).scaleb(-2)))
def test_percentage_line_discounts_stay_within_half_a_cent_a_line(rows, rate):
    lines = build(rows)
    answer = apply(terms(value=rate, product_ids=frozenset({1})), lines)
    assert isinstance(answer, CouponApplies)
    in_scope = [ln for ln in lines if ln.product_id == 1]
    exact = sum((ln.total.amount for ln in in_scope), Decimal(0)) * rate / 100
    assert answer.total is not None
    assert abs(answer.total.amount - exact) <= Decimal("0.005") * len(in_scope)
    for ln, discount in zip(lines, answer.line_discounts):
        assert Money.zero() <= discount <= ln.total


@given(totals=st.lists(st.integers(min_value=0, max_value=500), min_size=1, max_size=10),
       amount=st.integers(min_value=0, max_value=6000))
def test_spread_in_minor_units_even_when_every_share_rounds_down(totals, amount):
    # Tiny lines (a cent or a few) are where a naive "leftover to the largest
    # line" would push a line below zero.
    moneys = [Money(Decimal(t).scaleb(-2), "USD") for t in totals]
    shares = spread(Money(Decimal(amount).scaleb(-2), "USD"), moneys)
    assert sum(s.amount for s in shares) == min(Decimal(amount), Decimal(sum(totals))).scaleb(-2)
    assert all(Money.zero() <= s <= t for s, t in zip(shares, moneys))
