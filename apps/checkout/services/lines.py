"""A cart's lines: adding, changing and removing them.

Each write is checked whole before anything is written: one bad line (a
quantity below 1, a variant that is not on sale, more than is available) and
the cart is unchanged, with every problem on the field the client sent
(`lines.1.quantity`). Quantities are checked against what is available now;
checkout checks again under lock, since stock is promised only to orders.
"""

from collections.abc import Callable, Sequence
from typing import Any

from django.db import transaction

from apps.checkout.models import Cart, CartLine
from apps.checkout.pricing import line_name, on_sale
from apps.checkout.selectors import variants_on_sale
from apps.core.errors import ErrorCode
from apps.core.validation import Problems, max_value
from apps.inventory.selectors import quantity_available_by_variant

from .access import Token, cart_for_change, touch

# A cart is shown whole, not paginated, so it is bounded.
MAX_LINES = 100

# (variant id, quantity to add) and (line id, new quantity); an id is None
# when the client's ID named nothing (it is NOT_FOUND).
LineWanted = tuple[int | None, int]
LineChange = tuple[int | None, int]


def shortage(problems: Problems, field: str, *, line: CartLine, quantity: int,
             available: int) -> None:
    """Refuse `quantity` of the line's variant when less is available."""
    if quantity > available:
        problems.add(field, f"Only {max(available, 0)} of {line_name(line)} are available.",
                     ErrorCode.INSUFFICIENT_STOCK)


def set_quantity(line: CartLine, quantity: int) -> None:
    """A quantity the customer chose: the price they see now is the price
    the line was added at, and a merge's cap is forgotten."""
    line.quantity = quantity
    line.price_when_added = line.variant.price
    line.requested_quantity = None


QUANTITY_FIELDS = ["quantity", "price_when_added", "requested_quantity"]


def lines_add(cart: Cart, wanted: Sequence[LineWanted]) -> None:
    """Add to the lines of `cart` (locked by the caller): a variant already
    in the cart adds to its line, and a variant given twice adds up."""
    if not wanted:
        return
    problems = Problems()
    adding: dict[int, int] = {}
    first: dict[int, int] = {}  # variant id -> the index that names it first
    for index, (variant_id, quantity) in enumerate(wanted):
        if quantity <= 0:
            problems.add(f"lines.{index}.quantity", "Add at least 1.")
        if variant_id is not None:
            adding[variant_id] = adding.get(variant_id, 0) + max(quantity, 0)
            first.setdefault(variant_id, index)
    variants = variants_on_sale().select_related("product").in_bulk(list(adding))
    for index, (variant_id, _) in enumerate(wanted):
        if variant_id not in variants:
            problems.add(f"lines.{index}.variant_id", "No product variant with this ID.",
                         ErrorCode.NOT_FOUND)
    problems.raise_any()

    existing = {line.variant_id: line for line in cart.lines.filter(variant_id__in=list(adding))}
    available = quantity_available_by_variant(variant_ids=list(adding))
    most = max_value(CartLine, "quantity")
    new_lines: list[CartLine] = []
    for variant_id, added in adding.items():
        line = existing.get(variant_id) or CartLine(cart=cart, quantity=0)
        line.variant = variants[variant_id]
        quantity = line.quantity + added
        field = f"lines.{first[variant_id]}.quantity"
        if quantity > most:
            problems.add(field, f"At most {most}.")
        shortage(problems, field, line=line, quantity=quantity, available=available[variant_id])
        set_quantity(line, quantity)
        if line.pk is None:
            new_lines.append(line)
    if new_lines and cart.lines.count() + len(new_lines) > MAX_LINES:
        problems.add("lines", f"A cart holds at most {MAX_LINES} different items.")
    problems.raise_any()
    for line in existing.values():
        line.save(update_fields=QUANTITY_FIELDS)
    CartLine.objects.bulk_create(new_lines)


def _lines_named(cart: Cart, ids: Sequence[int | None], field: str,
                 problems: Problems) -> dict[int, CartLine]:
    """The lines of `cart` that the ids name; NOT_FOUND on `field` (with N
    for the id's place) for one that names no line of this cart (another
    cart's line reads as none)."""
    found = {line.pk: line for line in cart.lines.select_related("variant__product")
             .filter(pk__in=[pk for pk in ids if pk is not None])}
    seen: set[int] = set()
    for index, pk in enumerate(ids):
        if pk is None or pk not in found:
            problems.add(field.replace("N", str(index)), "No line of this cart has this ID.",
                         ErrorCode.NOT_FOUND)
        elif pk in seen:
            problems.add(field.replace("N", str(index)), "This line is given twice.")
        else:
            seen.add(pk)
    return found


def lines_update(cart: Cart, changes: Sequence[LineChange]) -> None:
    """Set the quantities of lines of `cart` (locked by the caller); 0
    removes a line. A line whose product is no longer on sale can only be
    removed."""
    problems = Problems()
    lines = _lines_named(cart, [line_id for line_id, _ in changes], "lines.N.line_id", problems)
    kept: dict[int, tuple[int, int]] = {}  # line id -> (index, quantity)
    for index, (line_id, quantity) in enumerate(changes):
        if quantity < 0:
            problems.add(f"lines.{index}.quantity", "Must not be negative; 0 removes the line.")
        elif quantity > 0 and line_id in lines:
            kept[line_id] = (index, quantity)
    available = quantity_available_by_variant(
        variant_ids=[lines[pk].variant_id for pk in kept]) if kept else {}
    for line_id, (index, quantity) in kept.items():
        line = lines[line_id]
        field = f"lines.{index}.quantity"
        if not on_sale(line.variant.product):
            problems.add(field, f"{line_name(line)} is no longer available: it can only be "
                         "removed.")
        else:
            shortage(problems, field, line=line, quantity=quantity,
                     available=available[line.variant_id])
    problems.raise_any()
    removed = [line_id for line_id, quantity in changes if line_id is not None and quantity == 0]
    CartLine.objects.filter(cart=cart, pk__in=removed).delete()
    for line_id, (_, quantity) in kept.items():
        set_quantity(lines[line_id], quantity)
        lines[line_id].save(update_fields=QUANTITY_FIELDS)


def lines_remove(cart: Cart, line_ids: Sequence[int | None]) -> None:
    """Remove lines of `cart` (locked by the caller), all or none."""
    problems = Problems()
    _lines_named(cart, line_ids, "line_ids.N", problems)
    problems.raise_any()
    CartLine.objects.filter(cart=cart, pk__in=[pk for pk in line_ids if pk is not None]).delete()


def _changed(user: Any, token: Token, change: Callable[[Cart], None]) -> Cart:
    """Apply `change` to the cart's lines, inside the caller's transaction."""
    cart = cart_for_change(user=user, token=token)
    change(cart)
    touch(cart)
    return cart


@transaction.atomic
def cart_lines_add(*, user: Any, token: Token, lines: Sequence[LineWanted]) -> Cart:
    """Add variants to the cart (see lines_add)."""
    return _changed(user, token, lambda cart: lines_add(cart, lines))


@transaction.atomic
def cart_lines_update(*, user: Any, token: Token, lines: Sequence[LineChange]) -> Cart:
    """Change quantities (see lines_update)."""
    return _changed(user, token, lambda cart: lines_update(cart, lines))


@transaction.atomic
def cart_lines_remove(*, user: Any, token: Token, line_ids: Sequence[int | None]) -> Cart:
    """Remove lines, all or none: an ID that names no line of the cart is
    NOT_FOUND on `lineIds.N`."""
    return _changed(user, token, lambda cart: lines_remove(cart, line_ids))
