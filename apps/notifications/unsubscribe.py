"""One-click unsubscribe links (RFC 8058): signed, so they work without
signing in and cannot be made for someone else.

A link names a user and a topic; following it (a POST, as mail clients send
for the List-Unsubscribe-Post header, or the button of the page a GET shows)
turns that topic off. It does not expire: a customer may unsubscribe from an
old email, and turning an email off is all it can do.
"""

from django.conf import settings
from django.core import signing

from .models import OPT_IN_TOPICS, Topic

SALT = "notifications.unsubscribe"
# commerce/urls.py serves it; the links are made here.
UNSUBSCRIBE_PATH = "notifications/unsubscribe/"


class BadToken(Exception):
    pass


def unsubscribe_token(*, user_id: int, topic: Topic) -> str:
    # No timestamp: the link of a customer and topic is always the same one.
    return signing.Signer(salt=SALT).sign_object({"user": user_id, "topic": str(topic)})


def read_unsubscribe_token(token: str) -> tuple[int, Topic]:
    """(user id, topic) of a token this server signed; BadToken otherwise."""
    try:
        payload = signing.Signer(salt=SALT).unsign_object(token)
        user_id, topic = int(payload["user"]), Topic(payload["topic"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as error:
        raise BadToken from error
    if topic not in OPT_IN_TOPICS:
        raise BadToken
    return user_id, topic


def unsubscribe_link(*, user_id: int, topic: Topic) -> str:
    token = unsubscribe_token(user_id=user_id, topic=topic)
    return f"{settings.PUBLIC_URL.rstrip('/')}/{UNSUBSCRIBE_PATH}{token}/"
