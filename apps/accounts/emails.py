"""Plain-text account emails. Their links open the storefront's pages, which
send the token back through the API."""

from urllib.parse import urlencode

from django.conf import settings
from django.core.mail import send_mail

from . import tokens
from .models import User

CONFIRM_PATH = "/account/confirm"
RESET_PATH = "/account/reset-password"


def storefront_link(path: str, token: str) -> str:
    return f"{settings.STOREFRONT_URL.rstrip('/')}{path}?{urlencode({'token': token})}"


def _send(user: User, *, subject: str, body: str) -> None:
    greeting = f"Hello {user.first_name}," if user.first_name else "Hello,"
    send_mail(subject, f"{greeting}\n\n{body}", from_email=None, recipient_list=[user.email])


def send_account_confirmation(user: User) -> None:
    link = storefront_link(CONFIRM_PATH, tokens.make_confirmation_token(user))
    days = max(1, settings.ACCOUNT_CONFIRMATION_MAX_AGE // 86400)
    _send(
        user,
        subject="Confirm your email address",
        body=(
            "Thank you for signing up. Confirm your email address by opening this link:\n\n"
            f"{link}\n\n"
            f"The link works for {days} day{'s' if days != 1 else ''}. "
            "If you did not sign up, ignore this email.\n"
        ),
    )


def send_password_reset(user: User) -> None:
    link = storefront_link(RESET_PATH, tokens.make_password_reset_token(user))
    minutes = max(1, settings.PASSWORD_RESET_TIMEOUT // 60)
    _send(
        user,
        subject="Reset your password",
        body=(
            "Someone asked to reset the password of your account. To choose a new "
            f"password, open this link:\n\n{link}\n\n"
            f"The link works once, for {minutes} minutes. "
            "If you did not ask for this, ignore this email; your password stays as it is.\n"
        ),
    )
