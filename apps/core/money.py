from decimal import ROUND_HALF_UP, Decimal

# ISO 4217 minor units where they are not 2.
_MINOR_UNITS = {
    "BHD": 3, "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "IQD": 3, "ISK": 0, "JOD": 3,
    "JPY": 0, "KMF": 0, "KRW": 0, "KWD": 3, "LYD": 3, "OMR": 3, "PYG": 0, "RWF": 0,
    "TND": 3, "UGX": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
}


def decimal_places(currency: str) -> int:
    return _MINOR_UNITS.get(currency.upper(), 2)


def quantize(amount: Decimal | int | str, currency: str) -> Decimal:
    """Round to the currency's minor unit, half up, as receipts do."""
    exponent = Decimal(1).scaleb(-decimal_places(currency))
    return Decimal(amount).quantize(exponent, rounding=ROUND_HALF_UP)
