"""Each kind's email, made from its templates: templates/notifications/
<kind>/subject.txt, body.txt and body.html (lower-cased kind), sent as one
EmailMultiAlternatives, plain text first with the HTML as its alternative.

An opt-in email carries its one-click unsubscribe link in the footer and in
the List-Unsubscribe headers (RFC 2369 and RFC 8058), which mail clients
show as an "Unsubscribe" button that POSTs to the link.
"""

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from .models import Kind

CONFIRM_PATH = "/account/confirm"
RESET_PATH = "/account/reset-password"
SESSIONS_PATH = "/account/sessions"
ACCOUNT_PATH = "/account"
ORDER_PATH = "/orders"
PRODUCT_PATH = "/products/"


def storefront_link(path: str, **query: str) -> str:
    link = f"{settings.STOREFRONT_URL.rstrip('/')}{path}"
    return f"{link}?{urlencode(query)}" if query else link


def compose(
    *, kind: Kind, to: str, context: dict[str, Any], unsubscribe_url: str | None = None
) -> EmailMultiAlternatives:
    """The email; its templates read `context`, `name` (for the greeting,
    when there is one), `subject` and `unsubscribe_url`."""
    folder = f"notifications/{kind.lower()}"
    context = {**context, "unsubscribe_url": unsubscribe_url}
    # One line, as a header must be.
    subject = " ".join(render_to_string(f"{folder}/subject.txt", context).split())
    context["subject"] = subject
    headers = {}
    if unsubscribe_url:
        headers = {"List-Unsubscribe": f"<{unsubscribe_url}>",
                   "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    message = EmailMultiAlternatives(
        subject=subject, body=render_to_string(f"{folder}/body.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL, to=[to], headers=headers,
    )
    message.attach_alternative(render_to_string(f"{folder}/body.html", context), "text/html")
    return message
