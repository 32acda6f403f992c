"""Webhooks that other services send the shop: thin views over their
domain's services (apps.payments.webhooks for Stripe's)."""

import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.payments import webhooks

logger = logging.getLogger(__name__)


@csrf_exempt  # Stripe signs its deliveries; there is no session to forge
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    """POST /webhooks/stripe/: 200 for an event recorded, repeated or of a
    type the shop ignores (so Stripe stops sending it); 400 for anything
    that does not verify, which changes nothing."""
    try:
        received = webhooks.stripe_event_receive(
            payload=request.body, signature=request.headers.get("Stripe-Signature"))
    except webhooks.InvalidWebhook as error:
        logger.warning("Stripe webhook refused: %s", error)
        return JsonResponse({"error": str(error)}, status=400)
    return JsonResponse({"received": str(received)})
