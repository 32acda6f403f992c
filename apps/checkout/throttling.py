"""Card testing: someone holding a list of stolen card numbers tries them,
one checkout after another, to learn which still work. Each payment that
checkoutComplete answers PAYMENT_DECLINED is counted for the cart's email
(normalised) and for the client's address (apps.core.addresses, as the
request came in), in windows of CHECKOUT_DECLINE_WINDOW seconds
(apps.core.throttling, in the shared cache). Once either count reaches its
limit (CHECKOUT_DECLINE_LIMIT_EMAIL, CHECKOUT_DECLINE_LIMIT_IP),
checkoutComplete is refused THROTTLED until the window ends, before the cart
is priced or the gateway is asked anything, whatever the card.

A payment that goes through clears nothing: a tester would slip their own
card in between. The address's limit is the higher one, since customers
behind one address (an office, a mobile network) share it.
"""

from django.conf import settings

from apps.core.errors import ErrorCode, ServiceError
from apps.core.throttling import any_reached, count_one, throttle_key
from apps.core.validation import normalize_email


def _counts(*, email: str, client_address: str) -> list[tuple[str, int]]:
    counts = []
    if email:
        counts.append((throttle_key("checkout-declines:email", normalize_email(email)),
                       settings.CHECKOUT_DECLINE_LIMIT_EMAIL))
    if client_address:
        counts.append((throttle_key("checkout-declines:ip", client_address),
                       settings.CHECKOUT_DECLINE_LIMIT_IP))
    return counts


def decline_record(*, email: str, client_address: str) -> None:
    for key, _ in _counts(email=email, client_address=client_address):
        count_one(key, settings.CHECKOUT_DECLINE_WINDOW)


def refuse_throttled(*, email: str, client_address: str) -> None:
    """THROTTLED while the email or the address has had too many declines."""
    if any_reached(_counts(email=email, client_address=client_address),
                   settings.CHECKOUT_DECLINE_WINDOW):
        raise ServiceError("Too many payments were declined. Try again later.",
                           code=ErrorCode.THROTTLED)
