"""The one-click unsubscribe link of the shop's opt-in emails (RFC 8058): a
thin view over apps.notifications.

GET shows what the link would stop and a button (mail scanners open links,
so a GET changes nothing); POST, which mail clients send for the
List-Unsubscribe-Post header and the button sends, unsubscribes. No sign-in:
the signed token is the proof. A client that asks for JSON gets JSON.
"""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from apps.core.errors import ServiceError
from apps.notifications import selectors, services
from apps.notifications.selectors import Subscription


def _answer(request: HttpRequest, subscription: Subscription | None = None,
            error: str = "") -> HttpResponse:
    status = 400 if error else 200
    if "application/json" in request.headers.get("Accept", ""):
        if error:
            return JsonResponse({"error": error, "code": "INVALID_TOKEN"}, status=status)
        assert subscription is not None
        return JsonResponse({"topic": subscription.topic.value,
                             "subscribed": subscription.subscribed})
    topic = subscription.topic.label if subscription else ""
    return render(request, "notifications/unsubscribe.html",
                  {"subscription": subscription, "topic": topic, "error": error}, status=status)


@csrf_exempt  # mail providers POST from elsewhere, without a session; the token is signed
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        if request.method == "POST":
            subscription = services.notifications_unsubscribe(token=token)
        else:
            subscription = selectors.subscription_of(token=token)
    except ServiceError as error:
        return _answer(request, error=str(error))
    return _answer(request, subscription)
