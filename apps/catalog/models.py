import uuid

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from treebeard.mp_tree import MP_Node

from apps.core.from_db import plain_from_db
from apps.catalog.sort_keys import price_key, rating_key, tie_break
from apps.core.money import Money

# What customers see: the condition of the storefront's partial indexes.
_VISIBLE = Q(is_published=True, deleted_at__isnull=True)


def _listing_index(name: str, *expressions) -> models.Index:
    """An index of the storefront's list in one of its orders."""
    return models.Index(*expressions, condition=_VISIBLE, name=name)


class Category(MP_Node):
    """A node of the category tree, stored as a materialised path (treebeard),
    so ancestors and descendants are each one query. Siblings keep the order
    they were added or moved into."""

    name = models.CharField(max_length=255)
    slug = models.SlugField(max_length=255, unique=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # A listing's page builds a category per product (apps/core/from_db.py).
    from_db = classmethod(plain_from_db)

    class Meta:
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class ProductQuerySet(models.QuerySet):
    def live(self) -> "ProductQuerySet":
        """Not soft-deleted: what exists for everyone but the audit trail."""
        return self.filter(deleted_at__isnull=True)

    def visible_to_customers(self) -> "ProductQuerySet":
        return self.live().filter(is_published=True)


class ProductPartQuerySet(models.QuerySet):
    """Variants and images: what belongs to a product."""

    def live(self) -> "ProductPartQuerySet":
        """Those of products that are not soft-deleted."""
        return self.filter(product__deleted_at__isnull=True)


class Product(models.Model):
    name = models.CharField(max_length=255)
    slug = models.SlugField(max_length=255, unique=True)
    description = models.TextField(blank=True, help_text="Sanitised HTML.")
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.PROTECT, related_name="products"
    )
    # Name to list of values, e.g. {"Notes": ["bergamot", "vetiver"]}.
    attributes = models.JSONField(default=dict, blank=True)
    seo_title = models.CharField(max_length=255, blank=True)
    seo_description = models.CharField(max_length=500, blank=True)
    is_published = models.BooleanField(default=False)
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # PostgreSQL full-text document (name A, SKUs A, attributes B,
    # description C), kept current by apps.catalog.services.
    search_vector = SearchVectorField(null=True, editable=False)
    # The listing's sort keys (apps.catalog.sort_keys), kept by
    # apps.catalog.services.refresh_sort_keys: the lowest variant price and
    # the mean stars of the visible reviews, null without either.
    min_price = models.DecimalField(max_digits=12, decimal_places=2, null=True,
                                    editable=False)
    average_rating = models.FloatField(null=True, editable=False)

    objects = ProductQuerySet.as_manager()
    # A listing's page builds a hundred at a time (apps/core/from_db.py).
    from_db = classmethod(plain_from_db)

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["is_published", "deleted_at"]),
            models.Index(fields=["created_at"]),
            # The storefront's default listing order, over what customers see.
            models.Index(
                fields=["name", "id"],
                condition=Q(is_published=True, deleted_at__isnull=True),
                name="product_listing_by_name",
            ),
            # The other orders of the list, on the expressions it orders by
            # (a descending one is walked backwards).
            _listing_index("product_listing_by_price", price_key(descending=False),
                           tie_break(descending=False)),
            _listing_index("product_listing_by_price_d", price_key(descending=True),
                           tie_break(descending=True)),
            _listing_index("product_listing_by_rating", rating_key(descending=False),
                           tie_break(descending=False)),
            _listing_index("product_listing_by_rating_d", rating_key(descending=True),
                           tie_break(descending=True)),
            _listing_index("product_listing_by_created", "created_at", "id"),
            _listing_index("product_listing_by_created_d", "created_at",
                           tie_break(descending=True)),
        ]

    def __str__(self) -> str:
        return self.name


class ProductVariant(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    sku = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=255, blank=True)
    # Ordered list of {"name": "Size", "value": "50 ml"}.
    options = models.JSONField(default=list, blank=True)
    price = models.DecimalField(max_digits=12, decimal_places=2)
    compare_at_price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    weight_grams = models.PositiveIntegerField(null=True, blank=True)
    low_stock_threshold = models.PositiveIntegerField(default=5)
    sort_order = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProductPartQuerySet.as_manager()

    class Meta:
        ordering = ["sort_order", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="variant_price_not_negative"),
            models.CheckConstraint(
                condition=Q(compare_at_price__isnull=True) | Q(compare_at_price__gte=0),
                name="variant_compare_at_price_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.sku

    @property
    def price_money(self) -> Money:
        """The price in the shop's currency (the column holds the amount)."""
        return Money.of(self.price)

    @property
    def compare_at_price_money(self) -> Money | None:
        return None if self.compare_at_price is None else Money.of(self.compare_at_price)


class ProductMedia(models.Model):
    """An image of a product. The first by sort order is the product's cover
    (what a listing shows); `thumbnail` is an image's small rendition."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="media")
    image = models.ImageField(upload_to="products/%Y/%m/")
    # A smaller copy for listings, made when the image is stored.
    thumbnail = models.ImageField(upload_to="products/thumbnails/%Y/%m/", blank=True)
    alt = models.CharField(max_length=255, blank=True)
    sort_order = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ProductPartQuerySet.as_manager()

    class Meta:
        ordering = ["sort_order", "id"]
        verbose_name_plural = "product media"

    def __str__(self) -> str:
        return self.alt or self.image.name or ""


class Review(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="reviews")
    # Null once the author deleted their account (apps.privacy): the review
    # stays, signed "A former customer".
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="reviews",
    )
    rating = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    title = models.CharField(max_length=255, blank=True)
    body = models.TextField(blank=True)
    # Whether the author bought the product (set when the review is written).
    verified_purchase = models.BooleanField(default=False)
    is_hidden = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "user"], name="one_review_per_customer"),
            models.CheckConstraint(
                condition=Q(rating__gte=1) & Q(rating__lte=5), name="review_rating_1_to_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rating}★ {self.product_id} by {self.user_id}"


class ProductEvent(models.Model):
    """A move of a product's life (apps.catalog.transitions): who published,
    unpublished, deleted or restored it, and when. Written by the move itself,
    in its transaction."""

    class Kind(models.TextChoices):
        PUBLISHED = "published", "Published"
        UNPUBLISHED = "unpublished", "Unpublished"
        DELETED = "deleted", "Deleted"
        RESTORED = "restored", "Restored"

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["product", "-created_at"], name="product_event_by_time")]

    def __str__(self) -> str:
        return f"{self.product_id} {self.kind}"


def _import_file_name(job: "ImportJob", filename: str) -> str:
    # A name nobody can guess, in case the storage serves its files: the
    # upload's own name is kept in file_name.
    return f"imports/{uuid.uuid4().hex}.csv"


class ImportJob(models.Model):
    """A CSV file of products uploaded through productsImport and imported
    by a Celery job, all or nothing (apps.catalog.services.import_jobs): who
    started it, how far it is, and what it wrote or why it wrote nothing.

    The file stays in storage until the job ends. While the job runs, how
    many rows it has done lives in the cache (the import's transaction is
    still open); `rows_done` here is written when it ends."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_jobs"
    )
    file = models.FileField(upload_to=_import_file_name, blank=True)
    file_name = models.CharField(max_length=255, help_text="The name the file was uploaded as.")
    dry_run = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.PositiveIntegerField(
        null=True, blank=True, help_text="Rows in the file, the header not counted; "
        "known once the job has read it.")
    rows_done = models.PositiveIntegerField(default=0)
    rows_unchanged = models.PositiveIntegerField(default=0)
    products_created = models.PositiveIntegerField(default=0)
    products_updated = models.PositiveIntegerField(default=0)
    variants_created = models.PositiveIntegerField(default=0)
    variants_updated = models.PositiveIntegerField(default=0)
    stock_movements = models.PositiveIntegerField(default=0)
    # The first problems found, as [{"field", "message", "code"}], fields as
    # the services name them ("rows.17.compare_at_price").
    errors = models.JSONField(default=list, blank=True)
    error_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_by", "-created_at"],
                                name="import_job_by_creator")]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.SUCCEEDED, self.Status.FAILED}
