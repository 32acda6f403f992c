"""Products to and from CSV, one row per variant.

The product's own fields (slug, name, category_slug, description,
is_published, attributes) repeat on each of its variants' rows and must agree.
`attributes` is a JSON object of name → list of values, `options` a JSON list
of {"name", "value"}; money is a plain decimal in the shop's currency, with
that currency's decimal places ("24.50"; checked as the API checks prices:
apps.core.validation.clean_price); `stock` is the
quantity on hand in the default warehouse.

An import creates or updates products by slug and variants by SKU, and is all
or nothing: every row is checked first and every problem is reported with its
row number (the header is row 1, as in a spreadsheet); if any row is wrong,
nothing is written. The writes go through the catalog and inventory services,
so imported data obeys the same rules as the API's, and each stock change is a
StockMovement of kind IMPORT. A row equal to what is stored changes nothing,
so importing an export is a no-op. Variants missing from the file are left as
they are (an import never deletes).

Columns other than slug, name, sku and price may be left out of the file: an
absent column leaves that field as it is (new rows get the default). A blank
`stock` or `low_stock_threshold` cell does the same; other blank cells mean
empty (no category, no compare-at price, no attributes...).

The management commands read files by path; the API's productsImport stores
an upload (which must be UTF-8 text: csv_upload_text) and imports it in a
Celery job (apps.catalog.services.import_jobs), reading the rows first
(read_products_csv, so the job knows how many there are) and importing them
with import_rows, which reports its progress as it goes.
"""

from apps.catalog.csv_io.export import export_products
from apps.catalog.csv_io.format import (
    CELL_WORDING,
    COLUMNS,
    PRODUCT_COLUMNS,
    REQUIRED_COLUMNS,
    VARIANT_COLUMNS,
    ImportResult,
    ProductImportError,
    RowError,
    row_field_errors,
)
from apps.catalog.csv_io.imports import (
    CsvRows,
    csv_upload_text,
    import_products,
    import_rows,
    read_products_csv,
)

__all__ = [
    "CELL_WORDING",
    "COLUMNS",
    "CsvRows",
    "ImportResult",
    "PRODUCT_COLUMNS",
    "ProductImportError",
    "REQUIRED_COLUMNS",
    "RowError",
    "VARIANT_COLUMNS",
    "csv_upload_text",
    "export_products",
    "import_products",
    "import_rows",
    "read_products_csv",
    "row_field_errors",
]
