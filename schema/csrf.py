"""Cross-site request forgery prevention, by Apollo Server's rule.

A page on any other site can make a browser send a "simple" request (one
without a CORS preflight) to /graphql/: a GET, or a POST whose content type
a plain HTML form can produce. The browser sends it with no preflight, so
the CORS policy never gets a say, and the server would run it: a multipart
form could submit `accountRegister`, and a GET could be timed to learn
something about what a query returns (XS-Search). A page cannot attach the
bearer token, but anonymous operations need none.

So a request is refused unless it cannot be simple: it carries a content
type a form cannot send (such as application/json), or one of the headers
below, which no browser sends without asking the server first.
"""

from collections.abc import Mapping

# Apollo Client for iOS and Kotlin send X-Apollo-Operation-Name on every
# request; web clients add Apollo-Require-Preflight where they need it.
PREFLIGHT_HEADERS = ("Apollo-Require-Preflight", "X-Apollo-Operation-Name")

# What an HTML form (or fetch with mode "no-cors") can send without preflight.
SIMPLE_CONTENT_TYPES = frozenset(
    {"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"}
)

MESSAGE = (
    "This request has been blocked as a potential cross-site request forgery. "
    "Send it with a Content-Type that is not one of "
    + ", ".join(sorted(SIMPLE_CONTENT_TYPES))
    + " (for example application/json), or with a non-empty "
    + " or ".join(PREFLIGHT_HEADERS)
    + " header (uploads: Apollo-Require-Preflight: true)."
)

_TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz")


def media_type_essence(value: str) -> str | None:
    """`type/subtype` of a Content-Type, lowercased, or None when it does not
    parse (as the WHATWG MIME type parser that browsers use reads it)."""
    head = value.split(";", 1)[0].strip(" \t\r\n").lower()
    kind, slash, subtype = head.partition("/")
    subtype = subtype.rstrip(" \t\r\n")
    if not slash or not kind or not subtype or not set(kind + subtype) <= _TOKEN:
        return None
    return f"{kind}/{subtype}"


def may_be_cross_site(headers: Mapping[str, str]) -> bool:
    """Whether a browser could have sent this request from another site
    without a preflight, and it carries no header that proves otherwise."""
    content_type = headers.get("Content-Type")
    if content_type is not None:
        essence = media_type_essence(content_type)
        # A type that does not parse is not simple either: browsers preflight it.
        if essence is None or essence not in SIMPLE_CONTENT_TYPES:
            return False
    return not any(headers.get(name) for name in PREFLIGHT_HEADERS)
