"""Admin catalog mutations. Each declares that it needs a staff user with
MANAGE_PRODUCTS (schema.permissions); a refused write comes back as payload
errors (schema.errors)."""

from typing import Annotated

import strawberry
from django.core.files.uploadedfile import UploadedFile
from strawberry import Info
from strawberry.file_uploads import Upload

from apps.accounts.permissions import Perm
from apps.catalog import models, services
from schema.catalog.import_jobs import ImportJob
from schema.catalog.inputs import (
    CategoryInput,
    ProductCreateInput,
    ProductUpdateInput,
    ProductVariantInput,
    ProductVariantUpdateInput,
)
from schema.catalog.types import Category, Product, ProductMedia, ProductVariant
from schema.errors import Payload, payload_mutation
from schema.ids import get_node, get_nodes
from schema.inputs import provided, sent
from schema.permissions import StaffPerm, signed_in_user


@strawberry.type
class CategoryCreatePayload(Payload):
    category: models.Category | None = strawberry.field(default=None, graphql_type=Category | None)


@strawberry.type
class CategoryUpdatePayload(Payload):
    category: models.Category | None = strawberry.field(default=None, graphql_type=Category | None)


@strawberry.type
class CategoryDeletePayload(Payload):
    pass


@strawberry.type
class ProductCreatePayload(Payload):
    product: models.Product | None = strawberry.field(default=None, graphql_type=Product | None)


@strawberry.type
class ProductUpdatePayload(Payload):
    product: models.Product | None = strawberry.field(default=None, graphql_type=Product | None)


@strawberry.type
class ProductDeletePayload(Payload):
    pass


@strawberry.type
class ProductBulkDeletePayload(Payload):
    count: int = strawberry.field(default=0, description="How many products were deleted.")


@strawberry.type
class ProductRestorePayload(Payload):
    product: models.Product | None = strawberry.field(default=None, graphql_type=Product | None)


@strawberry.type
class ProductsImportPayload(Payload):
    """The job that imports the file; null when the file was refused (then
    nothing was stored)."""

    import_job: models.ImportJob | None = strawberry.field(
        default=None, graphql_type=ImportJob | None,
        description="Poll it through `node(id:)` or follow it through importJobUpdated; with "
        "eager Celery (no REDIS_URL) it has ended by the time this answer is sent.",
    )


@strawberry.type
class ProductVariantCreatePayload(Payload):
    variant: models.ProductVariant | None = strawberry.field(
        default=None, graphql_type=ProductVariant | None
    )


@strawberry.type
class ProductVariantUpdatePayload(Payload):
    variant: models.ProductVariant | None = strawberry.field(
        default=None, graphql_type=ProductVariant | None
    )


@strawberry.type
class ProductMediaCreatePayload(Payload):
    media: models.ProductMedia | None = strawberry.field(
        default=None, graphql_type=ProductMedia | None
    )


@strawberry.type
class ProductMediaUpdatePayload(Payload):
    media: models.ProductMedia | None = strawberry.field(
        default=None, graphql_type=ProductMedia | None
    )
    product: models.Product | None = strawberry.field(
        default=None, graphql_type=Product | None,
        description="The product, to refetch its images in their new order.",
    )


@strawberry.type
class ProductMediaDeletePayload(Payload):
    product: models.Product | None = strawberry.field(default=None, graphql_type=Product | None)


def _category(global_id: str, field: str) -> models.Category:
    return get_node(models.Category.objects.all(), global_id, type_name="Category", field=field)


def _with_category(fields: dict, *, key: str = "category_id", to: str = "category") -> dict:
    """Replace an ID the client sent (or null) with the object it names."""
    if key in fields:
        global_id = fields.pop(key)
        fields[to] = None if global_id is None else _category(global_id, key)
    return fields


@strawberry.type
class CatalogMutation:
    @payload_mutation(extensions=[StaffPerm(Perm.MANAGE_PRODUCTS)])
    def category_create(self, info: Info, input: CategoryInput) -> CategoryCreatePayload:
        actor = signed_in_user(info)
        fields = _with_category(provided(input), key="parent_id", to="parent")
        fields.setdefault("name", None)
        return CategoryCreatePayload(category=services.category_create(actor=actor, **fields))

    @payload_mutation(extensions=[StaffPerm(Perm.MANAGE_PRODUCTS)])
    def category_update(
        self, info: Info, id: strawberry.ID, input: CategoryInput
    ) -> CategoryUpdatePayload:
        actor = signed_in_user(info)
        category = _category(id, "id")
        fields = _with_category(provided(input), key="parent_id", to="parent")
        return CategoryUpdatePayload(
            category=services.category_update(actor=actor, category=category, **fields)
        )

    @payload_mutation(
        extensions=[StaffPerm(Perm.MANAGE_PRODUCTS)],
        description="Deletes the category and its subcategories; refused with IN_USE while "
        "any of them holds a product that is not deleted.",
    )
    def category_delete(self, info: Info, id: strawberry.ID) -> CategoryDeletePayload:
        actor = signed_in_user(info)
        services.category_delete(actor=actor, category=_category(id, "id"))
        return CategoryDeletePayload()

    @payload_mutation(extensions=[StaffPerm(Perm.MANAGE_PRODUCTS)])
    def product_create(self, info: Info, input: ProductCreateInput) -> ProductCreatePayload:
        actor = signed_in_user(info)
        fields = _with_category(provided(input))
        fields["variants"] = fields.get("variants") or []
        return ProductCreatePayload(product=services.product_create(actor=actor, **fields))

    @payload_mutation(extensions=[StaffPerm(Perm.MANAGE_PRODUCTS)])
    def product_update(
        self, info: Info, id: strawberry.ID, input: ProductUpdateInput
    ) -> ProductUpdatePayload:
        actor = signed_in_user(info)
        product = get_node(models.Product.objects.live(), id, type_name="Product", field="id")
        fields = _with_category(provided(input))
        return ProductUpdatePayload(
            product=services.product_update(actor=actor, product=product, **fields)
        )

    @payload_mutation(
        extensions=[StaffPerm(Perm.MANAGE_PRODUCTS)],
        description="Soft delete: the product leaves the storefront; orders keep it.",
    )
    def product_delete(self, info: Info, id: strawberry.ID) -> ProductDeletePayload:
        actor = signed_in_user(info)
        product = get_node(models.Product.objects.live(), id, type_name="Product", field="id")
        services.product_delete(actor=actor, product=product)
        return ProductDeletePayload()

    @payload_mutation(
        extensions=[StaffPerm(Perm.MANAGE_PRODUCTS)],
        description="All or nothing: an unknown or already deleted ID is NOT_FOUND "
        "(field ids.N) and nothing is deleted.",
    )
    def product_bulk_delete(
        self, info: Info, ids: list[strawberry.ID]
    ) -> ProductBulkDeletePayload:
        actor = signed_in_user(info)
        products = get_nodes(models.Product.objects.live(), ids, type_name="Product",
                             field="ids")
        return ProductBulkDeletePayload(
            count=services.products_bulk_delete(actor=actor, products=products)
        )

    @payload_mutation(
        extensions=[StaffPerm(Perm.MANAGE_PRODUCTS)],
        description="Undoes productDelete. An ID that names no deleted product is NOT_FOUND.",
    )
    def product_restore(self, info: Info, id: strawberry.ID) -> ProductRestorePayload:
        actor = signed_in_user(info)
        product = get_node(models.Product.objects.filter(deleted_at__isnull=False), id,
                           type_name="Product", field="id")
        return ProductRestorePayload(product=services.product_restore(actor=actor, product=product))

    @payload_mutation(
        extensions=[StaffPerm(Perm.MANAGE_PRODUCTS)],
        description="Creates or updates products and variants from a CSV file (UTF-8, one row "
        "per variant, the columns of `manage.py export_products`; at most UPLOAD_MAX_SIZE "
        "bytes, any number of rows), sent per the GraphQL multipart request spec. The file is "
        "stored and imported by a job, all or nothing: the job ends SUCCEEDED with what it "
        "wrote, or FAILED with an error per problem on `rows.<row>.<column>` (the header is "
        "row 1; the column camelCased) and nothing written. A file that is not UTF-8 CSV "
        "text is refused here, INVALID on `file`, and no job is made. With dryRun the file "
        "is checked and the changes counted, and nothing is written.",
    )
    def products_import(
        self, info: Info, file: Upload, dry_run: bool = False
    ) -> ProductsImportPayload:
        actor = signed_in_user(info)
        return ProductsImportPayload(
            import_job=services.import_job_create(actor=actor, upload=file, dry_run=dry_run))

    @payload_mutation(extensions=[StaffPerm(Perm.MANAGE_PRODUCTS)])
    def product_variant_create(
        self, info: Info, product_id: strawberry.ID, input: ProductVariantInput
    ) -> ProductVariantCreatePayload:
        actor = signed_in_user(info)
        product = get_node(models.Product.objects.live(), product_id, type_name="Product",
                           field="product_id")
        return ProductVariantCreatePayload(
            variant=services.variant_create(actor=actor, product=product, **provided(input))
        )

    @payload_mutation(extensions=[StaffPerm(Perm.MANAGE_PRODUCTS)])
    def product_variant_update(
        self, info: Info, id: strawberry.ID, input: ProductVariantUpdateInput
    ) -> ProductVariantUpdatePayload:
        actor = signed_in_user(info)
        variant = get_node(models.ProductVariant.objects.live().select_related("product"), id,
                           type_name="ProductVariant", field="id")
        return ProductVariantUpdatePayload(
            variant=services.variant_update(actor=actor, variant=variant, **provided(input))
        )

    @payload_mutation(
        extensions=[StaffPerm(Perm.MANAGE_PRODUCTS)],
        description="A JPEG, PNG, WebP or GIF image (by its content, whatever its name) of at "
        "most UPLOAD_MAX_SIZE bytes, sent per the GraphQL multipart request spec.",
    )
    def product_media_create(
        self, info: Info, product_id: strawberry.ID,
        image: Annotated[UploadedFile, strawberry.argument(graphql_type=Upload)],
        alt: str | None = None,
    ) -> ProductMediaCreatePayload:
        actor = signed_in_user(info)
        product = get_node(models.Product.objects.live(), product_id, type_name="Product",
                           field="product_id")
        return ProductMediaCreatePayload(
            media=services.media_create(actor=actor, product=product, image=image, alt=alt or "")
        )

    @payload_mutation(
        extensions=[StaffPerm(Perm.MANAGE_PRODUCTS)],
        description="Change an image's alt text or its place (0 first: the cover).",
    )
    def product_media_update(
        self, info: Info, id: strawberry.ID, alt: str | None = strawberry.UNSET,
        position: int | None = strawberry.UNSET,
    ) -> ProductMediaUpdatePayload:
        actor = signed_in_user(info)
        media = get_node(models.ProductMedia.objects.live().select_related("product"), id,
                           type_name="ProductMedia", field="id")
        fields = sent(alt=alt, position=position)
        if "alt" in fields:
            fields["alt"] = fields["alt"] or ""  # null clears the text
        if fields.get("position") is None:
            fields.pop("position", None)  # null keeps the place
        media = services.media_update(actor=actor, media=media, **fields)
        return ProductMediaUpdatePayload(media=media, product=media.product)

    @payload_mutation(
        extensions=[StaffPerm(Perm.MANAGE_PRODUCTS)],
        description="Remove an image; its files go once the removal commits.",
    )
    def product_media_delete(self, info: Info, id: strawberry.ID) -> ProductMediaDeletePayload:
        actor = signed_in_user(info)
        media = get_node(models.ProductMedia.objects.live().select_related("product"), id,
                           type_name="ProductMedia", field="id")
        services.media_delete(actor=actor, media=media)
        return ProductMediaDeletePayload(product=media.product)
