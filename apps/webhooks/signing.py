"""Signing as the Standard Webhooks specification says
(https://www.standardwebhooks.com), with its reference implementation, the
`standardwebhooks` package, so that what receivers verify with it (or with
the specification's other libraries) is by construction what is sent.

The secret is "whsec_" and the base64 of random bytes; the key is those
bytes. Each attempt is signed over "<webhook-id>.<webhook-timestamp>.<body>"
with HMAC-SHA256, sent as `webhook-signature: v1,<base64 of the digest>`. The
timestamp is the attempt's, so a receiver may refuse old ones (replays); the
id is the event's, the same on every attempt, so it may drop repeats.
"""

import base64
import secrets
from datetime import UTC, datetime

from standardwebhooks import Webhook

PREFIX = "whsec_"
SECRET_BYTES = 32  # the specification allows 24 to 64


def generate_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def signature(*, secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    return Webhook(secret).sign(msg_id=message_id, data=body.decode(),
                                timestamp=datetime.fromtimestamp(timestamp, tz=UTC))


def signed_headers(*, secret: str, message_id: str, timestamp: int, body: bytes
                   ) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret=secret, message_id=message_id,
                                       timestamp=timestamp, body=body),
    }
