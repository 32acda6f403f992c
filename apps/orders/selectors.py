"""Order reads: whose orders a caller sees, and the ways to find one."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db.models import Q, QuerySet

from apps.accounts.permissions import Perm, staff_has_perm
from apps.core.validation import Problems, clean_moment

from .models import Order, Payment


def orders_visible_to(*, user: Any, queryset: QuerySet[Order] | None = None) -> QuerySet[Order]:
    """A customer sees their own orders, staff managing orders see them all,
    an anonymous caller none (a guest reads their order by its token, which
    order_by_token answers without this rule)."""
    queryset = Order.objects.all() if queryset is None else queryset
    if user is None or not user.is_authenticated:
        return queryset.none()
    if staff_has_perm(user, Perm.MANAGE_ORDERS):
        return queryset
    return queryset.filter(user=user)


def payments_visible_to(
    *, user: Any, queryset: QuerySet[Payment] | None = None
) -> QuerySet[Payment]:
    """The payments of the orders the caller sees."""
    queryset = Payment.objects.all() if queryset is None else queryset
    return queryset.filter(order__in=orders_visible_to(user=user))


def order_by_number(
    *, user: Any, number: str, queryset: QuerySet[Order] | None = None
) -> Order | None:
    """The order with this number if the caller may see it (its owner, the
    order desk); None whether it is someone else's or there is none."""
    queryset = Order.objects.all() if queryset is None else queryset
    return orders_visible_to(user=user, queryset=queryset.filter(number=number)).first()


def order_by_token(*, token: UUID, queryset: QuerySet[Order] | None = None) -> Order | None:
    """The order whose receipt link this is, for anyone holding it: the token
    is the key, so there is no other rule."""
    queryset = Order.objects.all() if queryset is None else queryset
    return queryset.filter(token=token).first()


def orders_of(*, user: Any) -> QuerySet[Order]:
    """The orders a customer placed, newest first: `me.orders`, and the
    only ones they may cancel (staff see more, but cancel through the desk)."""
    if user is None or not user.is_authenticated:
        return Order.objects.none()
    return Order.objects.filter(user=user).order_by("-created_at", "-id")


# A search longer than this many words is cut, as the customers search is.
ORDER_SEARCH_WORDS = 10


@dataclass(frozen=True)
class OrderFilters:
    """The desk's filter: every given condition must hold; a list of states
    means any of them."""

    statuses: Sequence[str] = ()
    payment_statuses: Sequence[str] = ()
    # Every word must appear: the order number (its start), the email, the
    # customer's or the shipping address's name.
    search: str | None = None
    created_from: datetime | None = None
    created_until: datetime | None = None


def _search(queryset: QuerySet[Order], search: str | None) -> QuerySet[Order]:
    for word in (search or "").split()[:ORDER_SEARCH_WORDS]:
        queryset = queryset.filter(
            Q(number__startswith=word.lstrip("#")) | Q(email__icontains=word)
            | Q(user__first_name__icontains=word) | Q(user__last_name__icontains=word)
            | Q(shipping_first_name__icontains=word) | Q(shipping_last_name__icontains=word)
        )
    return queryset


def order_list(*, filters: OrderFilters | None = None) -> QuerySet[Order]:
    """Orders matching `filters`, newest first (the caller's visibility is
    the Order type's, applied on top). A bound that is not a moment in UTC's
    calendar is INVALID."""
    filters = filters or OrderFilters()
    problems = Problems()
    created_from = clean_moment(problems, "filters.created_at.gte", filters.created_from)
    created_until = clean_moment(problems, "filters.created_at.lte", filters.created_until)
    problems.raise_any()
    queryset = Order.objects.all()
    if filters.statuses:
        queryset = queryset.filter(status__in=filters.statuses)
    if filters.payment_statuses:
        queryset = queryset.filter(payment_status__in=filters.payment_statuses)
    if created_from is not None:
        queryset = queryset.filter(created_at__gte=created_from)
    if created_until is not None:
        queryset = queryset.filter(created_at__lte=created_until)
    return _search(queryset, filters.search).order_by("-created_at", "-id")
