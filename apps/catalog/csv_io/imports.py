"""Products from CSV: every row checked first, through the same checks as the
services, then written through the services, all or nothing."""

import csv
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TextIO

from django.db import transaction
from django.db.models import QuerySet
from tqdm import tqdm

from apps.catalog import services
from apps.catalog.csv_io.format import (
    ATTRIBUTES_SHAPE,
    CELL_WORDING,
    COLUMNS,
    FALSE,
    OPTIONS_SHAPE,
    REQUIRED_COLUMNS,
    TRUE,
    ImportResult,
    ProductImportError,
    RowError,
)
from apps.catalog.models import Category, Product, ProductVariant
from apps.core.errors import ErrorCode, ServiceError
from apps.core.uploads import read_upload
from apps.core.validation import (
    Problems,
    clean_attributes,
    clean_count,
    clean_options,
    clean_price,
    clean_slug,
    clean_text,
    decimal_limits,
    max_length,
    max_value,
)
from apps.inventory.models import Stock, StockMovement
from apps.inventory.services import default_warehouse, stock_adjust


@dataclass
class _Row:
    number: int
    cells: dict[str, str]
    product: dict[str, Any] = field(default_factory=dict)  # cleaned product fields given
    variant: dict[str, Any] = field(default_factory=dict)  # cleaned variant fields given
    stock: int | None = None


@dataclass
class CsvRows:
    """A file read and its header checked, not yet judged row by row: what
    import_rows works on."""

    rows: list[_Row]
    columns: set[str]


def read_products_csv(file: TextIO) -> CsvRows:
    """The file's rows (see the module docstring). Raises ProductImportError
    for a wrong header or a file that is not readable as CSV."""
    reader = csv.DictReader(file)
    rows: list[_Row] = []
    header: Sequence[str] | None = None
    try:
        header = reader.fieldnames or []
        header_errors = _check_header(header)
        if header_errors:
            raise ProductImportError(header_errors)
        for number, cells in enumerate(reader, start=2):
            rows.append(_Row(number, {k: v or "" for k, v in cells.items()}))
    except csv.Error as error:  # e.g. a cell over csv.field_size_limit()
        failed = 1 if header is None else len(rows) + 2
        raise ProductImportError([RowError(failed, None, f"not readable as CSV ({error})")]
                                 ) from None
    return CsvRows(rows, set(header))


def import_products(
    *, actor, file: TextIO, dry_run: bool = False, source: str = "products.csv",
    progress: bool = False,
) -> ImportResult:
    """Create or update products and variants from a CSV (see the module
    docstring). Raises ProductImportError, having written nothing, when any
    row is wrong. With dry_run everything is checked and counted, then rolled
    back. `source` names the file in the stock movements' reference."""
    return import_rows(actor=actor, csv_rows=read_products_csv(file), dry_run=dry_run,
                       source=source, progress=progress)


def import_rows(
    *, actor, csv_rows: CsvRows, dry_run: bool = False, source: str = "products.csv",
    progress: bool = False, on_progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """import_products on rows already read. `on_progress(rows_done)` is
    called, inside the import's transaction, each time the rows of a product
    are written (or found unchanged); `progress` draws bars on the console."""
    rows = csv_rows.rows
    result = ImportResult(rows=len(rows), dry_run=dry_run)
    try:
        with transaction.atomic():
            plan = _Plan(rows, csv_rows.columns, progress=progress)
            if plan.errors:
                raise ProductImportError(plan.errors)
            # One ProductCreated or ProductChanged per product and part, not
            # one per row.
            with services.changes_told_once():
                plan.write(actor=actor, result=result, source=source, progress=progress,
                           on_progress=on_progress)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return result


class _DryRun(Exception):
    """Rolls the dry run's transaction back."""


def csv_upload_text(upload) -> str:
    """An uploaded file's text (a Django UploadedFile), or INVALID on "file"
    when it is larger than UPLOAD_MAX_SIZE, not UTF-8 text (a spreadsheet
    saved as .xlsx, say), or empty; what it says is judged by the import, row
    by row, however many rows there are. Its content type is not trusted:
    browsers send text/csv, application/vnd.ms-excel or nothing."""
    data = read_upload(upload, field="file", what="CSV file")
    try:
        # utf-8-sig: spreadsheets often start a CSV with a byte-order mark.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = None
    if text is None or "\0" in text:
        raise ServiceError("The file is not CSV text in UTF-8.", field="file")
    return text


def _check_header(fieldnames: Iterable[str] | None) -> list[RowError]:
    found = list(fieldnames or [])
    errors = [RowError(1, None, f"unknown column {name!r}") for name in found
              if name not in COLUMNS]
    errors += [RowError(1, None, f"missing column {name!r}", ErrorCode.REQUIRED)
               for name in COLUMNS if name in REQUIRED_COLUMNS and name not in found]
    errors += [RowError(1, None, f"column {name!r} is given twice") for name in set(found)
               if found.count(name) > 1]
    return errors


class _Plan:
    """The file checked against itself and the database: what to create,
    what to change, or every reason not to."""

    def __init__(self, rows: list[_Row], columns: set[str], *, progress: bool):
        self.rows = rows
        self.errors: list[RowError] = []
        self.categories = {c.slug: c for c in _each_in(
            Category.objects.all(), "slug", {r.cells.get("category_slug", "").strip()
                                             for r in rows})}
        self.products = {p.slug: p for p in _each_in(
            Product.objects.all(), "slug", {r.cells["slug"].strip() for r in rows})}
        self.variants = {v.sku: v for v in _each_in(
            ProductVariant.objects.select_related("product"), "sku",
            {r.cells["sku"].strip() for r in rows})}
        self.warehouse = default_warehouse()
        # Locked until the import ends: stock is compared and changed under
        # the lock, taken variant by variant in id order as every writer of
        # several variants' stock takes it (apps.inventory.services), batch
        # after batch.
        self.stocks = {s.variant_id: s for s in _each_in(
            Stock.objects.select_for_update().filter(warehouse=self.warehouse)
            .order_by("variant_id"), "variant_id", sorted(v.pk for v in self.variants.values()))}
        self.groups: dict[str, list[_Row]] = {}
        first_of_sku: dict[str, int] = {}
        for row in tqdm(rows, unit="row", desc="checking", disable=not progress):
            self._clean(row, columns)
            sku = row.variant.get("sku")
            if sku:
                if sku in first_of_sku:
                    self._error(row, "sku", f"{sku!r} is also on row {first_of_sku[sku]}",
                                ErrorCode.UNIQUE)
                first_of_sku.setdefault(sku, row.number)
            if row.product.get("slug"):
                self.groups.setdefault(row.product["slug"], []).append(row)
        for group in self.groups.values():
            self._check_group(group)

    def _error(self, row: _Row, column: str | None, message: str,
               code: ErrorCode = ErrorCode.INVALID) -> None:
        self.errors.append(RowError(row.number, column, message, code))

    # One row, alone and against the database.

    def _clean(self, row: _Row, columns: set[str]) -> None:
        """The row's cells through the checks the services make, each problem
        on its column (CELL_WORDING)."""
        if None in row.cells:
            self._error(row, None, "more cells than the header has columns")
        cells = {name: value.strip() for name, value in row.cells.items() if name}
        problems = Problems(wording=CELL_WORDING)
        product, variant = row.product, row.variant
        slug = clean_slug(problems, "slug", cells.get("slug", ""),
                          limit=max_length(Product, "slug"))
        if slug is not None:
            product["slug"] = slug
            existing = self.products.get(slug)
            if existing is not None and existing.deleted_at is not None:
                problems.add("slug", f"the product {slug!r} was deleted")
        product["name"] = clean_text(problems, "name", cells.get("name", ""),
                                     limit=max_length(Product, "name"), required=True)
        if "category_slug" in columns:
            category_slug = cells["category_slug"]
            product["category"] = self.categories.get(category_slug)
            if category_slug and product["category"] is None:
                problems.add("category_slug", f"no category {category_slug!r}",
                             ErrorCode.NOT_FOUND)
        if "description" in columns:
            product["description"] = services.sanitize_description(row.cells["description"])
        if "is_published" in columns:
            flag = cells["is_published"].lower()
            if flag not in TRUE | FALSE:
                problems.add("is_published", "use true or false")
            product["is_published"] = flag in TRUE
        if "attributes" in columns:
            data = _json(problems, "attributes", cells["attributes"])
            product["attributes"] = _through(problems, "attributes", data, clean_attributes,
                                             ATTRIBUTES_SHAPE, {})

        sku = clean_text(problems, "sku", cells.get("sku", ""),
                         limit=max_length(ProductVariant, "sku"), required=True)
        variant["sku"] = sku
        existing_variant = self.variants.get(sku)
        if existing_variant is not None and existing_variant.product.slug != slug:
            problems.add("sku", f"{sku!r} belongs to the product "
                         f"{existing_variant.product.slug!r}", ErrorCode.UNIQUE)
        if "variant_name" in columns:
            variant["name"] = clean_text(problems, "variant_name", cells["variant_name"],
                                         limit=max_length(ProductVariant, "name"))
        if "options" in columns:
            data = _json(problems, "options", cells["options"])
            if isinstance(data, Mapping):  # {"Size": "50 ml"} also reads as one option
                data = [{"name": name, "value": text} for name, text in data.items()]
            variant["options"] = _through(problems, "options", data, clean_options,
                                          OPTIONS_SHAPE, [])
        variant["price"] = clean_price(problems, "price", cells.get("price", ""),
                                       column=decimal_limits(ProductVariant, "price"),
                                       required=True)
        if "compare_at_price" in columns:
            variant["compare_at_price"] = clean_price(
                problems, "compare_at_price", cells["compare_at_price"],
                column=decimal_limits(ProductVariant, "compare_at_price"), required=False)
        if cells.get("low_stock_threshold"):
            variant["low_stock_threshold"] = clean_count(
                problems, "low_stock_threshold", cells["low_stock_threshold"],
                limit=max_value(ProductVariant, "low_stock_threshold"))
        if cells.get("stock"):
            row.stock = clean_count(problems, "stock", cells["stock"],
                                    limit=max_value(Stock, "quantity_on_hand"))
            stock = (self.stocks.get(existing_variant.pk) if existing_variant is not None
                     else None)
            if row.stock is not None and stock and row.stock < stock.quantity_allocated:
                problems.add("stock", f"must be ≥ {stock.quantity_allocated}, "
                             "the quantity allocated to orders", ErrorCode.INSUFFICIENT_STOCK)
        self.errors += [RowError(row.number, error.field, error.message, error.code)
                        for error in problems.errors]

    # The rows of one product, together.

    def _check_group(self, group: list[_Row]) -> None:
        first = group[0]
        for row in group[1:]:
            for name, value in row.product.items():
                if name in first.product and value != first.product[name]:
                    column = "category_slug" if name == "category" else name
                    self._error(row, column, f"differs from row {first.number} "
                                "(rows of one product must agree)")

    # Writing, through the services.

    def write(self, *, actor, result: ImportResult, source: str, progress: bool,
              on_progress: Callable[[int], None] | None = None) -> None:
        rows_done = 0
        for slug, group in tqdm(self.groups.items(), unit="product", desc="importing",
                                disable=not progress):
            with _reported_on(group[0], variant=False):
                product = self.products.get(slug)
                if product is None:
                    product = services.product_create(actor=actor, **group[0].product)
                    result.products_created += 1
                    product_written = True
                else:
                    changed = _changes(product, group[0].product)
                    if changed:
                        services.product_update(actor=actor, product=product, **changed)
                        result.products_updated += 1
                    product_written = bool(changed)
            for row in group:
                with _reported_on(row, variant=True):
                    variant_written = self._write_variant(actor, product, row, result, source)
                # The product's fields are on each of its rows, so a changed
                # product changes all of them.
                if not (product_written or variant_written):
                    result.rows_unchanged += 1
            rows_done += len(group)
            if on_progress is not None:
                on_progress(rows_done)

    def _write_variant(self, actor, product: Product, row: _Row, result: ImportResult,
                       source: str) -> bool:
        """Whether anything was written for the row's variant or its stock."""
        written = False
        variant = self.variants.get(row.variant["sku"])
        if variant is None:
            variant = services.variant_create(actor=actor, product=product, **row.variant)
            result.variants_created += 1
            written = True
            current = 0
        else:
            changed = _changes(variant, row.variant)
            if changed:
                services.variant_update(actor=actor, variant=variant, **changed)
                result.variants_updated += 1
                written = True
            stock = self.stocks.get(variant.pk)
            current = stock.quantity_on_hand if stock else 0
        if row.stock is not None and row.stock != current:
            stock_adjust(actor=actor, variant=variant, delta=row.stock - current,
                         reason="CSV import", kind=StockMovement.Kind.IMPORT,
                         reference=f"import:{source}:{row.number}"[:255])
            result.stock_movements += 1
            written = True
        return written


# Rows looked up per query: a file may hold any number of rows, more than a
# query may carry parameters (SQLite allows 32,766 in older builds).
LOOKUP_BATCH = 1000


def _each_in(queryset: QuerySet, field: str, values: Iterable) -> list:
    """The queryset's rows whose `field` is one of `values`, a batch at a time."""
    values = list(values)
    found: list = []
    for start in range(0, len(values), LOOKUP_BATCH):
        found += queryset.filter(**{f"{field}__in": values[start:start + LOOKUP_BATCH]})
    return found


_NOT_JSON = object()


def _json(problems: Problems, column: str, cell: str) -> Any:
    try:
        return json.loads(cell) if cell else None
    except ValueError as error:
        problems.add(column, f"not valid JSON ({error})")
        return _NOT_JSON


def _through(problems: Problems, column: str, data: Any, clean: Any, shape: str,
             empty: Any) -> Any:
    """A JSON cell's value through a shared check (clean_attributes,
    clean_options). A cell is one value to a person, so whatever is wrong
    inside it is one problem, saying what shape was expected."""
    if data is _NOT_JSON:
        return empty
    inner = Problems()
    cleaned = clean(inner, data, field=column)
    if inner:
        problems.add(column, shape)
        return empty
    return cleaned


def _changes(instance, cleaned: dict[str, Any]) -> dict[str, Any]:
    """The given fields whose value differs from what is stored."""
    return {name: value for name, value in cleaned.items() if getattr(instance, name) != value}


# What the services call a field → the CSV column it came from.
_PRODUCT_FIELDS = {"category": "category_slug"}


_VARIANT_FIELDS = {"name": "variant_name", "delta": "stock", "quantity": "stock"}


@contextmanager
def _reported_on(row: _Row, *, variant: bool):
    """A service's refusal, as errors of this row in CSV column names. (The
    checks above should have caught it; this covers what only the services
    know, e.g. a SKU taken by a concurrent write.)"""
    try:
        yield
    except ServiceError as error:
        names = _VARIANT_FIELDS if variant else _PRODUCT_FIELDS
        errors = []
        for found in error.errors:
            # "variants.0.options.1" → "options"
            parts = (found.field or "").removeprefix("variants.").split(".")
            field_name = parts[1] if parts[0].isdigit() else parts[0]
            errors.append(RowError(row.number, names.get(field_name, field_name) or None,
                                   found.message, found.code))
        raise ProductImportError(errors) from error
