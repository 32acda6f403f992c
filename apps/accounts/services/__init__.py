"""Writes of the accounts domain, one module per topic: sign-up, sessions
(sign-in tokens), profile and addresses, passwords, what staff change
about customers, staff accounts and permission groups, and the audit log. Every refusal is a ServiceError the API turns into payload
errors. Callers use the package (`services.token_auth`)."""

from .audit import audit_record
from .customers import customer_set_active
from .passwords import password_change, password_reset, password_reset_request
from .profile import (
    ADDRESS_FIELDS,
    NAME_FIELDS,
    address_checked,
    address_create,
    address_delete,
    address_update,
    account_update,
)
from .sessions import (
    IssuedTokens,
    refresh_token_revoke,
    refresh_token_rotate,
    refresh_tokens_delete_expired,
    refresh_tokens_revoke_all,
    token_auth,
)
from .signup import account_confirm, account_register
from .staff import (
    permission_group_create,
    permission_group_delete,
    permission_group_update,
    staff_create,
    staff_update,
)

__all__ = [
    "ADDRESS_FIELDS",
    "IssuedTokens",
    "NAME_FIELDS",
    "account_confirm",
    "account_register",
    "account_update",
    "address_checked",
    "address_create",
    "address_delete",
    "address_update",
    "audit_record",
    "customer_set_active",
    "password_change",
    "password_reset",
    "password_reset_request",
    "permission_group_create",
    "permission_group_delete",
    "permission_group_update",
    "refresh_token_revoke",
    "refresh_token_rotate",
    "refresh_tokens_delete_expired",
    "refresh_tokens_revoke_all",
    "staff_create",
    "staff_update",
    "token_auth",
]
