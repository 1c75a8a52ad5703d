"""Building blocks of the published language: the ``Contract`` base model and the value types.

Two rules shape everything here:

* **Tolerant reader, strict producer.** A consumer must keep working when a producer that is one
  release ahead adds a field, so validation for consumption ignores unknown keys. Our own code must
  never invent a field that the schema does not declare, so validation without the tolerant
  context refuses unknown keys: the models say ``extra="forbid"`` and every tolerant read
  validates with ``extra="ignore"`` (``Contract.model_validate*`` do so when given the
  ``TOLERANT`` context). pydantic-core applies it to every nested model, at no cost per model.
* **Money never travels as a float.** Decimals are JSON strings; JSON numbers with a fraction are
  refused because the parser has already turned them into binary floats.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Annotated, Any, ClassVar, Final, Self
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StringConstraints,
    WithJsonSchema,
)
from pydantic.config import ExtraValues
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from contracts.money import FRACTION_DIGITS, INTEGER_DIGITS, MINOR_UNITS

__all__ = [
    "DATETIME_PATTERN",
    "DATE_PATTERN",
    "INT64_MAX",
    "NO_NUL",
    "NO_NUL_PATTERN",
    "TOLERANT",
    "UUID_PATTERN",
    "Amount",
    "AwareUtc",
    "Contract",
    "CurrencyCode",
    "DecimalStr",
    "DiscountRate",
    "DownPaymentRate",
    "EntityId",
    "EventTypeName",
    "ExternalId",
    "LongText",
    "NonNegativeDecimal",
    "Payload",
    "PositiveAmount",
    "PositiveDecimal",
    "Quantity",
    "ShortText",
    "TaxRate",
    "any_present",
    "is_tolerant",
    "merged",
    "null_or_absent",
    "present",
]

# Pass as ``context=`` when validating consumed data. Read-only so that no caller can flip it for
# every other consumer in the process.
TOLERANT: Final[Mapping[str, bool]] = MappingProxyType({"tolerant": True})


def is_tolerant(context: object) -> bool:
    """True when a validation context asks for tolerant reading."""
    if context is TOLERANT:  # the common case on the hot decode path: skip the lookup
        return True
    return isinstance(context, Mapping) and context.get("tolerant") is True


class Contract(BaseModel):
    """Base of every model on the wire: immutable, tolerant to read, strict to produce."""

    # Lax (not strict) validation on purpose: consumers read JSON, where UUIDs, dates and
    # datetimes are strings. Floats are kept out of decimals by the types below, not by strictness.
    model_config = ConfigDict(frozen=True, extra="forbid")

    @classmethod
    def model_validate(
        cls,
        obj: Any,
        *,
        strict: bool | None = None,
        extra: ExtraValues | None = None,
        from_attributes: bool | None = None,
        context: Any | None = None,
        by_alias: bool | None = None,
        by_name: bool | None = None,
    ) -> Self:
        return super().model_validate(
            obj,
            strict=strict,
            extra=_extra_for(extra, context),
            from_attributes=from_attributes,
            context=context,
            by_alias=by_alias,
            by_name=by_name,
        )

    @classmethod
    def model_validate_json(
        cls,
        json_data: str | bytes | bytearray,
        *,
        strict: bool | None = None,
        extra: ExtraValues | None = None,
        context: Any | None = None,
        by_alias: bool | None = None,
        by_name: bool | None = None,
    ) -> Self:
        return super().model_validate_json(
            json_data,
            strict=strict,
            extra=_extra_for(extra, context),
            context=context,
            by_alias=by_alias,
            by_name=by_name,
        )


def _extra_for(extra: ExtraValues | None, context: Any) -> ExtraValues | None:
    """A tolerant read ignores unknown keys, unless the caller said otherwise."""
    if extra is None and is_tolerant(context):
        return "ignore"
    return extra


class Payload(Contract):
    """Base of event and command payloads: the body of an ``Envelope``.

    ``EVENT_TYPES`` is the truth the registry reads. A payload that is published under one event
    type sets ``EVENT_TYPE`` and gets ``EVENT_TYPES = (EVENT_TYPE,)``; a payload that serves several
    (``CommandRejected``) sets ``EVENT_TYPES`` itself. ``SCHEMA_VERSION`` goes into the envelope and
    is bumped on additive changes worth telling consumers about; breaking changes get a new type.
    """

    EVENT_TYPE: ClassVar[str]
    EVENT_TYPES: ClassVar[tuple[str, ...]] = ()
    SCHEMA_VERSION: ClassVar[int] = 1

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        single = cls.__dict__.get("EVENT_TYPE")
        if isinstance(single, str):
            cls.EVENT_TYPES = (single,)


# --- decimals -------------------------------------------------------------------------------

# Plain positional notation only: no exponent, no whitespace, no "_" separators, no NaN/Infinity,
# ASCII digits only (``\d`` and ``Decimal()`` both accept other Unicode digits). 20 integer digits
# and 12 decimals fit NUMERIC(32, 12) and any sane price, quantity or rate. Bounds are part of the
# pattern so that the JSON Schema states them exactly (a string has no "minimum") and the
# compatibility check sees a tightened bound as a changed pattern.
_DIGITS: Final = rf"[0-9]{{1,{INTEGER_DIGITS}}}(\.[0-9]{{1,{FRACTION_DIGITS}}})?"
DECIMAL_PATTERN: Final = rf"^-?{_DIGITS}$"
NON_NEGATIVE_DECIMAL_PATTERN: Final = rf"^{_DIGITS}$"
POSITIVE_DECIMAL_PATTERN: Final = rf"^(?!0+(\.0+)?$){_DIGITS}$"
UNIT_INTERVAL_PATTERN: Final = r"^(0(\.[0-9]{1,12})?|1(\.0{1,12})?)$"
OPEN_UNIT_INTERVAL_PATTERN: Final = r"^0\.(?!0+$)[0-9]{1,12}$"


class _DecimalString:
    """Pydantic adapter: ``Decimal`` in Python, a pattern-checked JSON string on the wire."""

    def __init__(self, pattern: str, rule: str) -> None:
        self._pattern = pattern
        # "$" in Python also matches before a trailing newline; fullmatch on the bare body doesn't.
        self._match = re.compile(pattern.removeprefix("^").removesuffix("$")).fullmatch
        self._rule = rule

    def _validate(self, value: object) -> Decimal:
        # PydanticCustomError (not TypeError, which pydantic would not catch) so that every
        # refusal is a validation error with a machine type, e.g. "decimal_float".
        if type(value) is str:
            if self._match(value) is None:
                raise PydanticCustomError(
                    "decimal_parsing", "must be {rule} written like '12.50'", {"rule": self._rule}
                )
            return Decimal(value)
        if isinstance(value, float):
            raise PydanticCustomError(
                "decimal_float", "floats are not accepted for decimals; send a string like '12.50'"
            )
        if isinstance(value, bool) or not isinstance(value, Decimal | int):
            raise PydanticCustomError("decimal_type", "must be a decimal string")
        result = Decimal(value)
        if not result.is_finite():
            raise PydanticCustomError("decimal_finite", "NaN and infinity are not accepted")
        if self._match(format(result, "f")) is None:
            raise PydanticCustomError(
                "decimal_bounds",
                "must be {rule} with at most {before} digits before and {after} after the point",
                {"rule": self._rule, "before": INTEGER_DIGITS, "after": FRACTION_DIGITS},
            )
        return result

    def __get_pydantic_core_schema__(
        self, source: type[Any], handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            self._validate,
            serialization=core_schema.plain_serializer_function_ser_schema(
                _format_decimal, when_used="json"
            ),
        )

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "format": "decimal", "pattern": self._pattern}


def _format_decimal(value: Decimal) -> str:
    # "f" never switches to exponent notation (str(Decimal("1E+2")) would be "1E+2").
    return format(value, "f")


DecimalStr = Annotated[Decimal, _DecimalString(DECIMAL_PATTERN, "a decimal")]
NonNegativeDecimal = Annotated[
    Decimal, _DecimalString(NON_NEGATIVE_DECIMAL_PATTERN, "a decimal >= 0")
]
PositiveDecimal = Annotated[Decimal, _DecimalString(POSITIVE_DECIMAL_PATTERN, "a decimal > 0")]
Quantity = PositiveDecimal
# Amounts on documents are never negative: discounts are their own column, a credit note is a
# document of its own with positive amounts, and a down payment deducted from an invoice is a
# deduction of its own. A balance that can go below zero uses plain DecimalStr.
Amount = NonNegativeDecimal
PositiveAmount = PositiveDecimal
TaxRate = Annotated[Decimal, _DecimalString(UNIT_INTERVAL_PATTERN, "a rate between 0 and 1")]
# A discount as a share of what it is taken of, 0.1 for 10 % (like tax and down payment rates).
DiscountRate = Annotated[Decimal, _DecimalString(UNIT_INTERVAL_PATTERN, "a rate between 0 and 1")]
DownPaymentRate = Annotated[
    Decimal, _DecimalString(OPEN_UNIT_INTERVAL_PATTERN, "a rate strictly between 0 and 1")
]


# --- identifiers, codes, text, time ------------------------------------------------------

# Integers on the wire fit PostgreSQL's BIGINT (and every other 64-bit reader): a larger one
# would pass validation here and fail later in the database as processing_failed.
INT64_MAX: Final = 2**63 - 1


def _known_currency(code: str) -> str:
    if code not in MINOR_UNITS:
        raise ValueError(f"unsupported currency {code!r}")
    return code


def _to_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        # 0001-01-01T00:00+01:00 is valid RFC 3339 but has no UTC time Python can hold; an
        # OverflowError is no validation error and escaped decoding instead of being refused.
        raise PydanticCustomError(
            "datetime_range", "out of range once converted to UTC (years 1 to 9999)"
        ) from None


# The schema lists the codes the validator accepts (the one table in contracts.money), so that a
# producer checking against the schema cannot send a code that is then refused.
CurrencyCode = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z]{3}$"),
    AfterValidator(_known_currency),
    WithJsonSchema({"type": "string", "enum": sorted(MINOR_UNITS)}),
]
# Ids minted by salesflow. Any UUID version is accepted so a move to UUIDv7 stays compatible.
EntityId = UUID
# What the JSON Schema adds to the format "uuid" (contracts.schemagen): a format is only an
# annotation unless a validator opts in, and decoding refuses anything but a UUID. The hyphenated
# form of any version and either case, all of which decoding accepts.
UUID_PATTERN: Final = (
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
# Ids given by upstream systems (lead ids, ERP invoice ids, skus, document numbers): opaque,
# but restricted to characters that are safe in Kafka keys, URLs and log lines.
ExternalId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$"),
]
EventTypeName = Annotated[
    str, StringConstraints(min_length=3, max_length=64, pattern=r"^[a-z][a-z_]*(\.[a-z][a-z_]*)+$")
]

# PostgreSQL stores no NUL character in text or jsonb: free text carrying one passed validation
# and was dead-lettered later as processing_failed. The rule is this pattern in the schema, and
# a refusal that says why at validation (a bare pattern mismatch would not).
NO_NUL_PATTERN: Final = r"^[^\x00]*$"


class _NoNul:
    """Pydantic adapter: free text without the NUL character, stated in the JSON Schema."""

    @staticmethod
    def _validate(value: str) -> str:
        if "\x00" in value:
            raise PydanticCustomError(
                "string_nul", "text must not contain the NUL character (U+0000)"
            )
        return value

    def __get_pydantic_core_schema__(
        self, source: type[Any], handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self._validate, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["pattern"] = NO_NUL_PATTERN
        return json_schema


# Annotated[str, ..., NO_NUL] for free text of other lengths.
NO_NUL: Final = _NoNul()

ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200), NO_NUL]
LongText = Annotated[str, StringConstraints(max_length=4000), NO_NUL]
AwareUtc = Annotated[AwareDatetime, AfterValidator(_to_utc)]
# What the JSON Schema adds to the formats "date" and "date-time" (contracts.schemagen): RFC 3339
# allows year 0000 and a leap second (:60), which Python's dates refuse, and a time on the first
# or last day of years 1..9999 whose offset carries it out of that range in UTC (refused above).
DATE_PATTERN: Final = r"^(?!0000)[0-9]{4}-"
DATETIME_PATTERN: Final = (
    r"^(?!0000|0001-01-01|9999-12-31)[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-5][0-9]"
    r"(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)


# --- rules across fields, stated in the JSON Schema -------------------------------------------
# A model validator that needs one of several optional fields states the same rule in the schema
# with these, passed as json_schema_extra next to it: "required" alone would accept an explicit
# null, which the validator refuses.


def present(*names: str) -> dict[str, Any]:
    """Schema: each of ``names`` is there and not null."""
    return {
        "required": list(names),
        "properties": {name: {"not": {"type": "null"}} for name in names},
    }


def null_or_absent(*names: str) -> dict[str, Any]:
    """Schema: none of ``names`` has a value (each is absent or null)."""
    return {"properties": {name: {"type": "null"} for name in names}}


def merged(*rules: Mapping[str, Any]) -> dict[str, Any]:
    """Schema: every one of ``rules`` at once (their properties and required lists joined)."""
    result: dict[str, Any] = {}
    for rule in rules:
        for key, value in rule.items():
            if key == "properties":
                result.setdefault(key, {}).update(value)
            elif key == "required":
                result[key] = [*result.get(key, ()), *value]
            elif key in result:
                raise ValueError(f"two rules set {key!r}; nest them in allOf")
            else:
                result[key] = value
    return result


def any_present(*names: str) -> dict[str, Any]:
    """Schema: at least one of ``names`` is there and not null."""
    return {"anyOf": [present(name) for name in names]}
