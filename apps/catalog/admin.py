"""Django admin for the catalog: a back office for what the GraphQL admin
does not cover. Edits here skip the services' checks, so the admin keeps to
what is safe: products are soft-deleted only (orders keep pointing at them),
descriptions are sanitised, and the search document is refreshed."""

from django.contrib import admin, messages
from treebeard.admin import TreeAdmin
from treebeard.forms import movenodeform_factory

from apps.catalog import services
from apps.catalog.models import (
    Category,
    Product,
    ProductEvent,
    ProductMedia,
    ProductVariant,
    Review,
)
from apps.catalog.search import refresh_search_vector
from apps.core.admin import ReadOnlyAdmin
from apps.core.errors import ServiceError


@admin.register(Category)
class CategoryAdmin(TreeAdmin):
    form = movenodeform_factory(Category)
    list_display = ("name", "slug", "updated_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}

    def save_model(self, request, obj, form, change):
        obj.description = services.sanitize_description(obj.description)
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None) -> bool:
        # The rule of category_delete: not while its subtree sells something.
        if obj is not None and services.category_holds_products(category=obj):
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        services.category_delete(actor=request.user, category=obj)

    def delete_queryset(self, request, queryset):
        for category in queryset.order_by("depth"):
            if not Category.objects.filter(pk=category.pk).exists():
                continue  # gone with its parent
            try:
                services.category_delete(actor=request.user, category=category)
            except ServiceError as error:
                self.message_user(request, f"{category}: {error}", messages.ERROR)


class VariantInline(admin.TabularInline):
    model = ProductVariant
    extra = 0
    fields = ("sku", "name", "price", "compare_at_price", "low_stock_threshold", "options",
              "weight_grams", "sort_order")
    show_change_link = True


class MediaInline(admin.TabularInline):
    model = ProductMedia
    extra = 0
    fields = ("image", "thumbnail", "alt", "sort_order")
    readonly_fields = ("thumbnail",)


class AliveFilter(admin.SimpleListFilter):
    title = "deleted"
    parameter_name = "deleted"

    def lookups(self, request, model_admin):
        return (("no", "Live"), ("yes", "Deleted"))

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(deleted_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(deleted_at__isnull=False)
        return queryset


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "category", "is_published", "deleted_at", "updated_at")
    list_filter = (AliveFilter, "is_published", "category")
    search_fields = ("name", "slug", "variants__sku")
    list_select_related = ("category",)
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("published_at", "created_at", "updated_at", "deleted_at")
    inlines = (VariantInline, MediaInline)
    actions = ("soft_delete", "restore")

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # Soft delete only: the "Delete selected" action below.

    def save_model(self, request, obj, form, change):
        obj.description = services.sanitize_description(obj.description)
        publish = obj.is_published
        moving = "is_published" in form.changed_data
        if moving:  # saved as it was; the move below changes it and stamps it
            obj.is_published = not publish
        super().save_model(request, obj, form, change)
        if moving:
            move = services.product_publish if publish else services.product_unpublish
            try:
                move(actor=request.user, product=obj)
            except ServiceError as error:
                self.message_user(request, f"{obj}: {error}", messages.ERROR)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        refresh_search_vector(product_ids=[form.instance.pk])

    @admin.action(description="Delete selected products (soft)", permissions=["change"])
    def soft_delete(self, request, queryset):
        count = services.products_bulk_delete(actor=request.user, products=queryset)
        self.message_user(request, f"Deleted {count} product(s).", messages.SUCCESS)

    @admin.action(description="Restore selected deleted products", permissions=["change"])
    def restore(self, request, queryset):
        count = 0
        for product in queryset.filter(deleted_at__isnull=False):
            try:
                services.product_restore(actor=request.user, product=product)
            except ServiceError:
                continue  # restored by someone else meanwhile
            count += 1
        self.message_user(request, f"Restored {count} product(s).", messages.SUCCESS)


@admin.register(ProductEvent)
class ProductEventAdmin(ReadOnlyAdmin):
    """The history the moves write (apps.catalog.services.lifecycle)."""

    list_display = ("product", "kind", "actor", "created_at")
    list_filter = ("kind",)
    search_fields = ("product__name", "product__slug", "actor__email")
    list_select_related = ("product", "actor")


@admin.register(ProductVariant)
class ProductVariantAdmin(admin.ModelAdmin):
    list_display = ("sku", "product", "name", "price", "low_stock_threshold")
    search_fields = ("sku", "name", "product__name")
    list_select_related = ("product",)
    raw_id_fields = ("product",)
    readonly_fields = ("created_at", "updated_at")


@admin.register(ProductMedia)
class ProductMediaAdmin(admin.ModelAdmin):
    list_display = ("__str__", "product", "sort_order", "created_at")
    raw_id_fields = ("product",)
    readonly_fields = ("thumbnail",)


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ("product", "user", "rating", "title", "verified_purchase", "is_hidden",
                    "created_at")
    list_filter = ("is_hidden", "rating", "verified_purchase")
    list_editable = ("is_hidden",)
    search_fields = ("title", "body", "product__name", "user__email")
    list_select_related = ("product", "user")
    raw_id_fields = ("product", "user")
