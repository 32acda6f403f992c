def async_safe(resolver):
    """Mark a resolver that only reads what the optimizer already loaded.

    strawberry-django otherwise runs every sync resolver through
    sync_to_async under the async view: a thread hop per row, which was most
    of a product listing's time. A marked resolver must never query.
    """
    resolver.is_async_safe = True
    return resolver
