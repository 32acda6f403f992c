"""How a product's stored attributes read to everyone who sees the product."""

from apps.catalog.models import Product


def product_attributes(*, product: Product) -> list[tuple[str, list[str]]]:
    """`Product.attributes` as (name, values) pairs in stored order.

    It is a JSON object of name -> list of values; rows written before the
    services checked it may hold a single value as a scalar, or something
    that is not an object at all, and must still read rather than fail.
    """
    raw = product.attributes
    if not isinstance(raw, dict):
        return []
    return [
        (str(name), [str(value) for value in (values if isinstance(values, list) else [values])])
        for name, values in raw.items()
    ]
