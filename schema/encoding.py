"""JSON out: one encoder for every answer, executed or from the response
cache, so the same data is the same bytes (a cached entry's ETag names them).

orjson writes a product page in a tenth of the time of the standard
library's encoder (58 kB: 0.09 against 1.1 ms on the benchmark machine),
UTF-8 as it is rather than escaped. A value it does not know (a Django lazy
string, a date in an error's extensions, an integer past 64 bits) goes to
Django's encoder, with the same output conventions.
"""

import json
from typing import Any

import orjson
from django.core.serializers.json import DjangoJSONEncoder


def dumps(value: Any) -> bytes:
    """`value` as compact JSON, UTF-8."""
    try:
        return orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError is one
        return json.dumps(value, cls=DjangoJSONEncoder, separators=(",", ":"),
                          ensure_ascii=False).encode()
