"""Writes of the accounts domain, one module per topic: sign-up, sessions
(sign-in sessions and their tokens), the sign-in history, two-factor
sign-in, signing in to the Django admin, profile and addresses, passwords,
what staff change about customers, staff accounts and permission groups,
and the audit log. Every refusal is a ServiceError the API turns into
payload errors. Callers use the package (`services.token_auth`)."""

from .admin_site import admin_sign_in
from .audit import audit_record
from .customers import customer_set_active
from .history import sign_in_attempts_delete_old
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
    session_revoke,
    session_revoke_others,
    sign_in_complete,
    sign_in_failed,
    sign_in_proven,
    token_auth,
)
from .signup import account_confirm, account_register
from .twofactor import (
    TwoFactorSecret,
    token_auth_two_factor,
    two_factor_confirm,
    two_factor_disable,
    two_factor_remove,
    two_factor_setup,
)
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
    "admin_sign_in",
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
    "session_revoke",
    "session_revoke_others",
    "sign_in_attempts_delete_old",
    "sign_in_complete",
    "sign_in_failed",
    "sign_in_proven",
    "staff_create",
    "staff_update",
    "token_auth",
    "token_auth_two_factor",
    "TwoFactorSecret",
    "two_factor_confirm",
    "two_factor_disable",
    "two_factor_remove",
    "two_factor_setup",
]
