"""Django admin for the catalog: a back office for what the GraphQL admin
does not cover. Every write goes through the catalog's services, as the API's
and the CSV importer's do (apps.core.admin): the same checks, the same error
messages on the form, sanitised descriptions, the search document refreshed,
images verified and given a thumbnail. Products are soft-deleted only (orders
keep pointing at them); variants are not deleted here at all. Reviews are
moderated in apps/reviews/admin.py, through the reviews' services."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseBadRequest
from treebeard.admin import TreeAdmin

from apps.catalog import images, services
from apps.catalog.models import (
    Category,
    Product,
    ProductEvent,
    ProductMedia,
    ProductVariant,
)
from apps.catalog.services.categories import CATEGORY_FIELDS
from apps.catalog.services.products import PRODUCT_FIELDS
from apps.catalog.services.variants import VARIANT_FIELDS, clean_variant
from apps.core.admin_bases import ReadOnlyAdmin, ServiceAdmin, ServiceForm, show_on_form
from apps.core.errors import ServiceError
from apps.core.validation import Problems

# --- Categories ------------------------------------------------------------------------------


class CategoryForm(ServiceForm):
    parent = forms.ModelChoiceField(Category.objects.all(), required=False,
                                    help_text="Left empty: a top-level category.")
    position = forms.IntegerField(
        required=False, help_text="Place among its siblings, 0 first. Left empty: last when "
        "new or moved, unchanged otherwise.")

    class Meta:
        model = Category
        fields = ("name", "slug", "description")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial["parent"] = Category.objects.get_parent(self.instance)

    def write(self, *, actor) -> Category:
        if self.instance.pk is None:
            data = self.cleaned_data
            return services.category_create(
                actor=actor, name=data["name"], slug=data["slug"] or None,
                description=data["description"], parent=data["parent"],
                position=data["position"])
        return services.category_update(actor=actor, category=self.instance,
                                        **self.changed(CATEGORY_FIELDS))


@admin.register(Category)
class CategoryAdmin(ServiceAdmin, TreeAdmin):
    form = CategoryForm
    list_display = ("name", "slug", "updated_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}

    def move_node(self, request):
        """The tree's drag and drop, as category_update(parent, position):
        dropped on a category, last among its children; dropped on a
        sibling, just before it."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        node = Category.objects.filter(pk=request.POST.get("node")).first()
        target = Category.objects.filter(pk=request.POST.get("target")).first()
        relation = request.POST.get("relation")
        if node is None or target is None or relation not in ("child", "sibling"):
            return HttpResponseBadRequest("Invalid form data provided")
        if not self.has_change_permission(request, node):
            raise PermissionDenied
        if relation == "child":
            parent, position = target, None
        else:
            parent = Category.objects.get_parent(target)
            siblings = [s.pk for s in Category.objects.get_siblings(target) if s.pk != node.pk]
            position = siblings.index(target.pk)
        try:
            services.category_update(actor=request.user, category=node, parent=parent,
                                     position=position)
        except ServiceError as error:
            messages.error(request, str(error))
            return HttpResponseBadRequest("Refused")
        return HttpResponse("OK")

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


# --- Variants and images, on the product's page -------------------------------------------


class VariantInlineForm(forms.ModelForm):
    """A variant row, checked by the variant services' own check
    (clean_variant); written by ProductAdmin.save_formset."""

    class Meta:
        model = ProductVariant
        fields = ("sku", "name", "price", "compare_at_price", "low_stock_threshold", "options",
                  "weight_grams")

    def given(self) -> dict:
        names = self.changed_data if self.instance.pk else self.fields
        return {name: self.cleaned_data.get(name) for name in names if name in VARIANT_FIELDS}

    def clean(self):
        cleaned = super().clean()
        if not self.errors and self.has_changed():
            problems = Problems()
            clean_variant(problems, self.given(),
                          instance=self.instance if self.instance.pk else None)
            if problems:
                show_on_form(self, ServiceError(errors=problems.errors))
        return cleaned


class VariantInline(admin.TabularInline):
    model = ProductVariant
    form = VariantInlineForm
    extra = 0
    fields = ("sku", "name", "price", "compare_at_price", "low_stock_threshold", "options",
              "weight_grams", "sort_order")
    readonly_fields = ("sort_order",)
    can_delete = False  # orders name variants; there is no variant_delete
    show_change_link = True


class MediaInlineForm(forms.ModelForm):
    """An image row: a new image is verified as media_create verifies it;
    an image's file is not replaced (add a new one, delete the old)."""

    class Meta:
        model = ProductMedia
        fields = ("image", "alt")

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        if self.instance.pk is not None and "image" in self.changed_data:
            self.add_error("image", "Add the new image and delete this one.")
        elif self.instance.pk is None and cleaned.get("image"):
            try:
                images.verify(cleaned["image"])
            except ServiceError as error:
                show_on_form(self, error)
        return cleaned


class MediaInline(admin.TabularInline):
    model = ProductMedia
    form = MediaInlineForm
    extra = 0
    fields = ("image", "thumbnail", "alt", "sort_order")
    readonly_fields = ("thumbnail", "sort_order")


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


# --- Products --------------------------------------------------------------------------------


class ProductForm(ServiceForm):
    class Meta:
        model = Product
        fields = ("name", "slug", "category", "description", "is_published", "seo_title",
                  "seo_description", "attributes")

    def write(self, *, actor) -> Product:
        if self.instance.pk is None:
            data = self.cleaned_data
            return services.product_create(
                actor=actor, **{name: data[name] for name in PRODUCT_FIELDS if name in data})
        return services.product_update(actor=actor, product=self.instance,
                                       **self.changed(PRODUCT_FIELDS))


@admin.register(Product)
class ProductAdmin(ServiceAdmin, admin.ModelAdmin):
    form = ProductForm
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

    def save_related(self, request, form, formsets, change):
        """The variant and image rows tell of each part of the product once
        (the forms' dry runs are over by now: services.changes_told_once)."""
        with services.changes_told_once():
            super().save_related(request, form, formsets, change)

    def save_formset(self, request, form, formset, change):
        """Variant and image rows through their services (first publishing is
        stamped by product_update, as through the API). What was written is
        kept on the formset, as formset.save() keeps it, for the history."""
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for row in formset.forms:
            if row in formset.deleted_forms:
                if row.instance.pk is not None:
                    services.media_delete(actor=request.user, media=row.instance)
                    formset.deleted_objects.append(row.instance)
            elif row.has_changed():
                written = self._write_row(request.user, form.instance, formset.model, row)
                if row.instance.pk is None or written.pk != row.instance.pk:
                    formset.new_objects.append(written)
                else:
                    formset.changed_objects.append((written, row.changed_data))

    def _write_row(self, actor, product: Product, model, row):
        if model is ProductVariant:
            if row.instance.pk is None:
                return services.variant_create(actor=actor, product=product, **row.given())
            return services.variant_update(actor=actor, variant=row.instance, **row.given())
        if row.instance.pk is None:
            return services.media_create(actor=actor, product=product,
                                         image=row.cleaned_data["image"],
                                         alt=row.cleaned_data["alt"])
        return services.media_update(actor=actor, media=row.instance,
                                     alt=row.cleaned_data["alt"])

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


class VariantForm(ServiceForm):
    class Meta:
        model = ProductVariant
        fields = ("product", "sku", "name", "price", "compare_at_price", "low_stock_threshold",
                  "options", "weight_grams")

    def write(self, *, actor) -> ProductVariant:
        if self.instance.pk is None:
            data = self.cleaned_data
            return services.variant_create(
                actor=actor, product=data["product"],
                **{name: data[name] for name in VARIANT_FIELDS if name in data})
        return services.variant_update(actor=actor, variant=self.instance,
                                       **self.changed(VARIANT_FIELDS))


@admin.register(ProductVariant)
class ProductVariantAdmin(ServiceAdmin, admin.ModelAdmin):
    form = VariantForm
    list_display = ("sku", "product", "name", "price", "low_stock_threshold")
    search_fields = ("sku", "name", "product__name")
    list_select_related = ("product",)
    raw_id_fields = ("product",)
    readonly_fields = ("created_at", "updated_at")

    def get_readonly_fields(self, request, obj=None):
        # A variant stays with its product.
        return (*self.readonly_fields, "product") if obj is not None else self.readonly_fields

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # orders name variants; there is no variant_delete


class MediaForm(ServiceForm):
    class Meta:
        model = ProductMedia
        fields = ("alt",)

    def write(self, *, actor) -> ProductMedia:
        return services.media_update(actor=actor, media=self.instance,
                                     **self.changed({"alt"}))


@admin.register(ProductMedia)
class ProductMediaAdmin(ServiceAdmin, admin.ModelAdmin):
    """Images are added on their product's page (verified, with a thumbnail);
    here their alt text changes and they are deleted."""

    form = MediaForm
    list_display = ("__str__", "product", "sort_order", "created_at")
    readonly_fields = ("product", "image", "thumbnail", "sort_order")

    def has_add_permission(self, request) -> bool:
        return False

    def delete_model(self, request, obj):
        self.delete_queryset(request, [obj])

    def delete_queryset(self, request, queryset):
        for media in queryset:
            try:
                services.media_delete(actor=request.user, media=media)
            except ServiceError as error:  # its product was deleted
                self.message_user(request, f"{media}: {error}", messages.ERROR)
