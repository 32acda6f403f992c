"""What staff who manage customers may change about a customer's account."""

from django.db import transaction

from apps.core.errors import ServiceError

from ..models import User
from .audit import audit_record
from .sessions import refresh_tokens_revoke_all


@transaction.atomic
def customer_set_active(*, actor: User, customer: User, is_active: bool) -> User:
    """Deactivating ends the customer's sessions at once: their access tokens
    are refused from the next request on (`user_from_access_token` reads
    `is_active` every time) and their sessions are revoked with their refresh
    tokens, so reactivating does not bring an old session back. Staff accounts are
    refused: they are managed with the staff's own permissions, elsewhere, and
    a customer manager must not be able to lock a colleague out."""
    if customer.is_staff or customer.is_superuser:
        raise ServiceError(
            "This is a staff account: staff are managed elsewhere, not as customers.",
            field="id",
        )
    was_active = customer.is_active
    customer.is_active = is_active
    customer.save(update_fields=["is_active", "updated_at"])
    audit_record(actor=actor, action="customer.set_active", target=customer,
                 details={"is_active": [was_active, is_active]})
    if not is_active:
        refresh_tokens_revoke_all(user=customer)
    return customer
