"""The stand-in for an email address that was erased (an account deleted,
apps.privacy): a unique address under the reserved `.invalid` top-level
domain (RFC 2606), which no mail server will ever accept. Rows that must keep
an email column (an order kept for the books, a notification's log) keep
this instead, and nothing is sent to it (apps.notifications.delivery)."""

ERASED_DOMAIN = "erased.invalid"


# What an address keeps once its person is erased: the country, which tax
# reports need (old order records past their retention, the webhooks' log).
KEPT_OF_ADDRESS = "country"


def erased_email(kind: str, pk: int) -> str:
    return f"{kind}-{pk}@{ERASED_DOMAIN}"


def is_erased(email: str) -> bool:
    return email.lower().endswith(f"@{ERASED_DOMAIN}")
