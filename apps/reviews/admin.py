"""Review moderation in the Django admin: staff hide or show a review through
review_set_hidden, as reviewSetHidden does; what customers wrote stays as
they wrote it, and reviews are written only by their authors (reviewCreate)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.catalog.models import Review
from apps.core.admin_bases import ServiceAdmin, ServiceForm

from . import services


class ReviewForm(ServiceForm):
    class Meta:
        model = Review
        fields = ("is_hidden",)

    def write(self, *, actor: Any) -> Review:
        return services.review_set_hidden(actor=actor, review=self.instance,
                                          is_hidden=self.cleaned_data["is_hidden"])


@admin.register(Review)
class ReviewAdmin(ServiceAdmin, admin.ModelAdmin):  # type: ignore[type-arg]
    form = ReviewForm
    list_display = ("product", "user", "rating", "title", "verified_purchase", "is_hidden",
                    "created_at")
    list_filter = ("is_hidden", "rating", "verified_purchase")
    list_editable = ("is_hidden",)
    search_fields = ("title", "body", "product__name", "user__email")
    list_select_related = ("product", "user")
    readonly_fields = ("product", "user", "rating", "title", "body", "verified_purchase",
                       "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_changelist_form(self, request: HttpRequest, **kwargs: Any) -> Any:
        # list_editable's rows save through review_set_hidden as well.
        return type("ReviewListForm", (ReviewForm,), {"actor": request.user})
