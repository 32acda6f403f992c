"""The file's columns, how its problems are worded and reported, and what an
import answers."""

from collections.abc import Iterable
from dataclasses import dataclass

from apps.core.errors import ErrorCode, FieldError, ServiceError
from apps.core.validation import (
    Reason,
)

PRODUCT_COLUMNS = ["slug", "name", "category_slug", "description", "is_published", "attributes"]


VARIANT_COLUMNS = ["sku", "variant_name", "options", "price", "compare_at_price", "stock",
                   "low_stock_threshold"]


COLUMNS = PRODUCT_COLUMNS + VARIANT_COLUMNS


REQUIRED_COLUMNS = {"slug", "name", "sku", "price"}
TRUE, FALSE = {"true", "1", "yes", "y"}, {"false", "0", "no", "n", ""}


# The shared checks (apps.core.validation) in a spreadsheet's voice: short,
# lower case, after "row 3: price: ".
CELL_WORDING = {
    Reason.REQUIRED: "required",
    Reason.TOO_LONG: "at most {limit} characters",
    Reason.NOT_A_NUMBER: "{value!r} is not a number",
    Reason.NOT_WHOLE: "{value!r} is not a whole number",
    Reason.NEGATIVE: "must be ≥ 0",
    Reason.TOO_MANY_PLACES: "at most {places} decimal places",
    Reason.TOO_LARGE: "too large",
    Reason.SLUG_CHARACTERS: "use 1 to {limit} letters, numbers, hyphens or underscores",
    Reason.SLUG_TOO_LONG: "use 1 to {limit} letters, numbers, hyphens or underscores",
    Reason.NAME_TWICE: "{name!r} is given twice",
    Reason.OPTION_INCOMPLETE: "an option needs a name and a value",
    Reason.NOT_A_LIST: "must be a list",
    Reason.NOT_A_COUNTRY: "{value!r} is not a country code",
}


ATTRIBUTES_SHAPE = 'expected {"name": ["value", ...], ...}'


OPTIONS_SHAPE = 'expected [{"name": "...", "value": "..."}, ...]'


@dataclass(frozen=True)
class RowError:
    row: int
    column: str | None
    message: str
    code: ErrorCode = ErrorCode.INVALID

    def __str__(self) -> str:
        where = f"row {self.row}: {self.column}" if self.column else f"row {self.row}"
        return f"{where}: {self.message}"


def row_field_errors(row_errors: Iterable[RowError]) -> list[FieldError]:
    """Row problems as service errors, each on "rows.<row>.<column>" ("rows.1"
    for the header) so that a client can point at the cell. The message keeps
    the row and the column as the file spells them, for people."""
    return [FieldError(field=f"rows.{e.row}.{e.column}" if e.column else f"rows.{e.row}",
                       message=str(e), code=e.code)
            for e in row_errors]


class ProductImportError(ServiceError):
    """The file was refused; nothing was written. `row_errors` has every
    problem found, in row order; as a ServiceError, see row_field_errors."""

    def __init__(self, row_errors: list[RowError]):
        self.row_errors = sorted(row_errors, key=lambda e: e.row)
        super().__init__(errors=row_field_errors(self.row_errors))


@dataclass
class ImportResult:
    rows: int = 0
    products_created: int = 0
    products_updated: int = 0
    variants_created: int = 0
    variants_updated: int = 0
    stock_movements: int = 0
    rows_unchanged: int = 0  # equal to what is stored: nothing written for them
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        return any((self.products_created, self.products_updated, self.variants_created,
                    self.variants_updated, self.stock_movements))
