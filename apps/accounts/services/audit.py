"""The audit log's one writer. Callers record inside the transaction of the
change they make, so a change rolled back leaves no entry and an entry never
stands for a change that did not happen."""

from typing import Any

from django.db import models, transaction

from ..models import AuditEntry


def is_staff_actor(actor: Any) -> bool:
    """Whether `actor` is a staff account whose actions are audited: the
    order desk's services are called by customers, by webhooks and by beat
    too (no actor), and only staff actions are kept."""
    return bool(getattr(actor, "pk", None) and getattr(actor, "is_staff", False))


def audit_record(
    *, actor: Any, action: str, target: models.Model, details: dict[str, Any] | None = None
) -> AuditEntry | None:
    """Keep that `actor` did `action` (a short code, `staff.create`,
    `order.fulfil`) to `target`; None when the actor is not staff. Must run
    inside the change's transaction (it refuses to run outside one, where it
    could outlive a change rolled back)."""
    if not is_staff_actor(actor):
        return None
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record runs inside the transaction of the change it records.")
    return AuditEntry.objects.create(
        actor=actor, actor_email=actor.email, action=action,
        object_type=target._meta.label, object_pk=str(target.pk),
        object_repr=str(target)[:200], details=details or {},
    )
