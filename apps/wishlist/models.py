from django.conf import settings
from django.db import models


class WishlistItem(models.Model):
    """A product a customer keeps for later. One row per customer and product;
    the row stays while the product is unpublished or soft-deleted (it shows
    again if the product comes back), and goes with the product's row."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wishlist_items"
    )
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.CASCADE, related_name="wishlist_items"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-added_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "product"], name="wishlist_item_unique"),
        ]
        indexes = [models.Index(fields=["user", "-added_at"])]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.product_id}"
