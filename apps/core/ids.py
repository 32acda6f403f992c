"""Database ids as they arrive from outside (inside global IDs, tokens):
text that must be a positive 64-bit integer and nothing looser."""

# Primary keys are 64-bit (BigAutoField); a larger number overflows the driver.
MAX_PK = 2**63 - 1


def parse_pk(value: object) -> int | None:
    """The id `value` spells in plain ASCII digits, or None.

    Stricter than int(): no sign, no spaces, no underscores, no other
    scripts' digits, nothing past 64 bits.
    """
    if not isinstance(value, str) or not value.isascii() or not value.isdigit():
        return None
    pk = int(value) if len(value) <= 20 else 0
    return pk if 0 < pk <= MAX_PK else None
