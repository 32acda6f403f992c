"""Races between processes on PostgreSQL: real transactions from several
server-like processes at once (tests/concurrency.py::in_processes), for what
must hold whatever the concurrency: stock is never sold twice, a coupon is
never used past its limit, one cart makes one order."""

import pytest

from apps.catalog.models import ProductVariant
from apps.inventory import services as inventory
from apps.inventory.models import Stock
from tests.concurrency import in_processes
from tests.racing import Raised
from tests.concurrency import keeps_default_warehouse  # noqa: F401 - a fixture
from tests.factories import make_product, make_variant

pytestmark = [
    pytest.mark.postgresql,
    pytest.mark.usefixtures("keeps_default_warehouse", "transactional_db"),
]


def allocate_one(index: int, variant_id: int) -> str:
    variant = ProductVariant.objects.get(pk=variant_id)
    inventory.stock_allocate(variant=variant, quantity=1, reference=f"race:{index}")
    return "taken"


def test_allocations_racing_for_the_last_units_take_exactly_those():
    item = make_variant(product=make_product(), stock=4, low_stock_threshold=0)

    results = in_processes(6, "tests.test_process_races:allocate_one", item.pk)
    assert results.count("taken") == 4
    refusals = [r for r in results if isinstance(r, Raised)]
    assert [r.code for r in refusals] == ["INSUFFICIENT_STOCK"] * 2
    assert Stock.objects.get(variant=item).quantity_allocated == 4
