"""The checks every write makes, in one place: text, slugs, counts, prices,
attributes, options, emails. Services, the CSV importer and the Django admin
all go through these, so a rule holds whichever way data comes in.

Each check reports into a Problems collection rather than raising, so a
service refuses an input once with everything wrong with it (field names as
the client sent them, e.g. "variants.1.sku"). A problem is a Reason with its
details; the Problems' wording turns it into a message. The API speaks in
sentences ("Must not be negative."); the CSV importer has its own terser
wording ("must be ≥ 0") and passes it in. One rule, two voices.

Limits are read from the model fields themselves (`max_length`, the integer
and decimal columns' ranges), so a migration that widens a column widens the
check with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, validate_email, validate_slug
from django.db import models
from django.db.backends.base.operations import BaseDatabaseOperations
from django.utils.text import slugify

from apps.core.countries import COUNTRY_CODES
from apps.core.errors import ErrorCode, FieldError, ServiceError
from apps.core.money import currency_places, shop_currency


class Reason(StrEnum):
    REQUIRED = "required"
    TOO_LONG = "too_long"
    NOT_A_NUMBER = "not_a_number"
    NOT_WHOLE = "not_whole"
    NEGATIVE = "negative"
    TOO_MANY_PLACES = "too_many_places"
    TOO_LARGE = "too_large"
    SLUG_CHARACTERS = "slug_characters"
    SLUG_TOO_LONG = "slug_too_long"
    NAME_TWICE = "name_twice"
    OPTION_INCOMPLETE = "option_incomplete"
    NOT_A_LIST = "not_a_list"
    NOT_A_COUNTRY = "not_a_country"


# The API's wording. Templates may use the problem's details: {limit},
# {places}, {value}, {name}.
SENTENCES: Mapping[Reason, str] = {
    Reason.REQUIRED: "This field is required.",
    Reason.TOO_LONG: "At most {limit} characters.",
    Reason.NOT_A_NUMBER: "Not a number.",
    Reason.NOT_WHOLE: "Must be a whole number.",
    Reason.NEGATIVE: "Must not be negative.",
    Reason.TOO_MANY_PLACES: "At most {places} decimal places.",
    Reason.TOO_LARGE: "Too large.",
    Reason.SLUG_CHARACTERS: "Use only letters, numbers, hyphens and underscores.",
    Reason.SLUG_TOO_LONG: "At most {limit} characters.",
    Reason.NAME_TWICE: "{name!r} is given twice.",
    Reason.OPTION_INCOMPLETE: "An option needs a name and a value.",
    Reason.NOT_A_LIST: "Must be a list.",
    Reason.NOT_A_COUNTRY: "{value!r} is not an ISO 3166-1 alpha-2 country code.",
}

_CODES: Mapping[Reason, ErrorCode] = {
    Reason.REQUIRED: ErrorCode.REQUIRED,
    Reason.OPTION_INCOMPLETE: ErrorCode.REQUIRED,
    Reason.NAME_TWICE: ErrorCode.UNIQUE,
}


class Problems:
    """Collects what is wrong with an input, to refuse it once with all of it."""

    def __init__(self, *, wording: Mapping[Reason, str] = SENTENCES) -> None:
        self.errors: list[FieldError] = []
        self.wording = wording

    def __bool__(self) -> bool:
        return bool(self.errors)

    def add(self, field: str | None, message: str, code: ErrorCode = ErrorCode.INVALID) -> None:
        """A problem only one service knows, in its own words."""
        self.errors.append(FieldError(field=field, message=message, code=code))

    def refuse(self, field: str | None, reason: Reason, **details: Any) -> None:
        """A problem of a shared check, in this collection's wording."""
        message = self.wording[reason].format(**details)
        self.add(field, message, _CODES.get(reason, ErrorCode.INVALID))

    def raise_any(self) -> None:
        if self.errors:
            raise ServiceError(errors=self.errors)


# --- Limits, from the model fields -------------------------------------------------------


def _column(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field):
        raise ValueError(f"{model.__name__}.{name} is not a column")
    return field


def max_length(model: type[models.Model], name: str) -> int:
    """The column's `max_length`."""
    limit = _column(model, name).max_length
    if limit is None:
        raise ValueError(f"{model.__name__}.{name} has no max_length")
    return int(limit)


def max_value(model: type[models.Model], name: str) -> int:
    """The largest whole number the column takes: a MaxValueValidator on the
    field, or the range Django gives its type on every database (a 32-bit
    integer for IntegerField and PositiveIntegerField). SQLite would store
    more; PostgreSQL, where the shop runs, would not, so the check follows the
    portable range and both behave alike."""
    field = _column(model, name)
    for validator in getattr(field, "_validators", []):
        if isinstance(validator, MaxValueValidator):
            return int(validator.limit_value)
    return BaseDatabaseOperations.integer_field_ranges[field.get_internal_type()][1]


def decimal_limits(model: type[models.Model], name: str) -> tuple[int, Decimal]:
    """(decimal places, the bound an amount must stay below) of a DecimalField:
    12 digits with 2 places hold anything below 10**10."""
    field = _column(model, name)
    if not isinstance(field, models.DecimalField):
        raise ValueError(f"{model.__name__}.{name} is not a DecimalField")
    places, digits = int(field.decimal_places), int(field.max_digits)
    return places, Decimal(10) ** (digits - places)


# --- Text and slugs ----------------------------------------------------------------------


def clean_text(problems: Problems, field: str, value: Any, *, limit: int,
               required: bool = False) -> str:
    """Trimmed text of at most `limit` characters."""
    text = (value or "").strip()
    if required and not text:
        problems.refuse(field, Reason.REQUIRED)
    elif len(text) > limit:
        problems.refuse(field, Reason.TOO_LONG, limit=limit)
    return text


def clean_slug(problems: Problems, field: str, value: str | None, *, limit: int) -> str | None:
    """A slug as typed (letters, digits, hyphens, underscores), or None when
    it is not one; whether it is taken is the caller's business."""
    slug = (value or "").strip()
    if not slug:
        problems.refuse(field, Reason.REQUIRED)
        return None
    try:
        validate_slug(slug)
    except ValidationError:
        problems.refuse(field, Reason.SLUG_CHARACTERS, limit=limit)
        return None
    if len(slug) > limit:
        problems.refuse(field, Reason.SLUG_TOO_LONG, limit=limit)
        return None
    return slug


def unique_slug(model: type[models.Model], source: str, fallback: str, *,
                exclude_pk: int | None = None) -> str:
    """A slug from `source` that no other row has: "rose-oil", "rose-oil-2"..."""
    room = max_length(model, "slug") - 15  # for the "-<n>" a clash adds
    base = slugify(source)[:room].strip("-") or fallback
    taken = set(
        model.objects.filter(slug__startswith=base).exclude(pk=exclude_pk)  # type: ignore[attr-defined]
        .values_list("slug", flat=True)
    )
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def chosen_slug(problems: Problems, model: type[models.Model], slug: str | None, *,
                exclude_pk: int | None = None) -> str:
    """The slug a client chose: well formed (clean_slug) and not another row's."""
    chosen = clean_slug(problems, "slug", slug, limit=max_length(model, "slug"))
    if chosen is None:
        return (slug or "").strip()
    if model.objects.filter(slug=chosen).exclude(pk=exclude_pk).exists():  # type: ignore[attr-defined]
        problems.add("slug", f"The slug {chosen!r} is taken.", ErrorCode.UNIQUE)
    return chosen


def normalize_email(email: str | None) -> str:
    """Emails are stored trimmed and lower-cased (a database constraint on
    accounts_user insists), and looked up the same way."""
    return (email or "").strip().lower()


def clean_email(problems: Problems, field: str, value: Any, *, limit: int,
                required: bool = False) -> str:
    """An email address as Django's validator takes it, normalised
    (normalize_email); "" when left out and not required."""
    email = normalize_email(value if isinstance(value, str) else "")
    if not email:
        if required:
            problems.refuse(field, Reason.REQUIRED)
        return ""
    if len(email) > limit:
        problems.refuse(field, Reason.TOO_LONG, limit=limit)
        return email
    try:
        validate_email(email)
    except ValidationError:
        problems.add(field, "Enter a valid email address.")
    return email


def clean_moment(problems: Problems, field: str, value: datetime | None) -> datetime | None:
    """A moment in UTC, as it is stored; one given without a zone is read as
    UTC. A moment that leaves the calendar in UTC (0001-01-01T00:00+14:00) is
    refused rather than failing at the database."""
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        problems.add(field, "Out of range.")
        return None


# --- Numbers ----------------------------------------------------------------------------


def clean_count(problems: Problems, field: str, value: Any, *, limit: int) -> int | None:
    """A whole number from 0 to `limit` (stock, thresholds, grams), or None
    when left out or wrong. Text ("12", from a file) is read as a number."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            problems.refuse(field, Reason.NOT_WHOLE, value=value)
            return None
    if isinstance(value, bool) or not isinstance(value, int):
        problems.refuse(field, Reason.NOT_WHOLE, value=value)
        return None
    if value < 0:
        problems.refuse(field, Reason.NEGATIVE)
    elif value > limit:
        problems.refuse(field, Reason.TOO_LARGE, limit=limit)
    else:
        return value
    return None


def clean_price(problems: Problems, field: str, value: Any, *, column: tuple[int, Decimal],
                required: bool, currency: str | None = None) -> Decimal | None:
    """A price: a number, not negative, with at most the currency's decimal
    places (and the column's), below the column's bound (see decimal_limits).
    Nothing is rounded: a price with too many places is refused, not changed.
    None when left out (REQUIRED if `required`) or wrong."""
    column_places, bound = column
    places = min(column_places, currency_places(currency or shop_currency()))
    return _clean_decimal(problems, field, value, places=places, bound=bound, required=required)


def clean_percentage(problems: Problems, field: str, value: Any, *,
                     column: tuple[int, Decimal], required: bool) -> Decimal | None:
    """A rate in percent (a tax rate): from 0 to 100, with at most the
    column's decimal places; refused, never rounded, like a price."""
    places, bound = column
    return _clean_decimal(problems, field, value, places=places, bound=min(bound, Decimal(100)),
                          required=required, bound_included=True)


def _clean_decimal(problems: Problems, field: str, value: Any, *, places: int, bound: Decimal,
                   required: bool, bound_included: bool = False) -> Decimal | None:
    if value is None or value == "":
        if required:
            problems.refuse(field, Reason.REQUIRED)
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        problems.refuse(field, Reason.NOT_A_NUMBER, value=value)
        return None
    exponent = amount.as_tuple().exponent
    if not amount.is_finite() or not isinstance(exponent, int):
        problems.refuse(field, Reason.NOT_A_NUMBER, value=value)
    elif amount < 0:
        problems.refuse(field, Reason.NEGATIVE)
    elif exponent < -places:
        problems.refuse(field, Reason.TOO_MANY_PLACES, places=places)
    elif amount > bound or (amount == bound and not bound_included):
        problems.refuse(field, Reason.TOO_LARGE)
    else:
        return amount
    return None


# --- Countries ------------------------------------------------------------------------------


def clean_country(problems: Problems, field: str, value: Any) -> str:
    """An ISO 3166-1 alpha-2 code, upper-cased ("us" is "US")."""
    code = value.strip().upper() if isinstance(value, str) else ""
    if not code:
        problems.refuse(field, Reason.REQUIRED)
    elif code not in COUNTRY_CODES:
        problems.refuse(field, Reason.NOT_A_COUNTRY, value=value)
    return code


# --- Attributes and options ---------------------------------------------------------------


def clean_attributes(problems: Problems, value: Any, *, field: str = "attributes"
                     ) -> dict[str, list[str]]:
    """{"Notes": ["bergamot"]} from that mapping or from [{"name", "values"}]:
    names trimmed, given once; blank values dropped."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        pairs = list(value.items())
    elif isinstance(value, list) and all(isinstance(item, Mapping) for item in value):
        pairs = [(item.get("name"), item.get("values")) for item in value]
    else:
        problems.refuse(field, Reason.NOT_A_LIST)
        return {}
    result: dict[str, list[str]] = {}
    for index, (name, values) in enumerate(pairs):
        name = name.strip() if isinstance(name, str) else ""
        if not name:
            problems.refuse(f"{field}.{index}.name", Reason.REQUIRED)
            continue
        if name in result:
            problems.refuse(f"{field}.{index}.name", Reason.NAME_TWICE, name=name)
            continue
        values = [] if values is None else values
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            problems.refuse(f"{field}.{index}.values", Reason.NOT_A_LIST)
            continue
        result[name] = [v.strip() for v in values if v.strip()]
    return result


def clean_options(problems: Problems, value: Any, *, field: str = "options"
                  ) -> list[dict[str, str]]:
    """An ordered list of {"name", "value"}, both given, trimmed."""
    if value is None:
        return []
    if not isinstance(value, list):
        problems.refuse(field, Reason.NOT_A_LIST)
        return []
    result = []
    for index, option in enumerate(value):
        option = option if isinstance(option, Mapping) else {}
        name, text = option.get("name"), option.get("value")
        name = name.strip() if isinstance(name, str) else ""
        text = text.strip() if isinstance(text, str) else ""
        if not name or not text:
            problems.refuse(f"{field}.{index}", Reason.OPTION_INCOMPLETE)
        result.append({"name": name, "value": text})
    return result


def reject_unknown(fields: Mapping[str, Any], allowed: set[str]) -> None:
    """A caller passing a field a service does not take is a programming
    error, not the user's: TypeError, as for an unknown keyword argument."""
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"Unexpected fields: {', '.join(sorted(unknown))}")
