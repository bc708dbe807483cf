"""Typed values from text (the CLI's options, the API's filters): a value cast to
its field's type by the DTO's own validation, or an error naming the field's type."""

from __future__ import annotations

import datetime as dt
import enum
import types
import typing
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ValidationError

from telecrm.crm.cleaning import FieldProblem, is_missing
from telecrm.errors import ValidationFailed


def is_number(annotation: Any) -> bool:
    """Whether a field's type is a number (None aside)."""
    arguments = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    if typing.get_origin(annotation) is typing.Annotated:
        return is_number(arguments[0])
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return all(is_number(arg) for arg in arguments)
    return (
        isinstance(annotation, type)
        and issubclass(annotation, int | Decimal | float)
        and not issubclass(annotation, bool | enum.Enum)
    )


def type_name(annotation: Any) -> str:
    """How a field's type reads in an error message."""
    arguments = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    if typing.get_origin(annotation) is typing.Annotated:
        return type_name(arguments[0])
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return " or ".join(type_name(arg) for arg in arguments)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return "one of " + ", ".join(repr(member.value) for member in annotation)
    names = {
        int: "an integer",
        Decimal: "a decimal number",
        dt.date: "a date (YYYY-MM-DD)",
        dt.datetime: "a date and time with its zone (ISO 8601)",
        str: "text",
    }
    for kind, name in names.items():
        if isinstance(annotation, type) and issubclass(annotation, kind):
            return name
    return getattr(annotation, "__name__", "text")


def cast_value(
    dto: type[BaseModel],
    domain: str,
    fields: Sequence[str],
    field_name: str,
    value: Any,
    normalise_field: Callable[[str, Any], Any],
) -> Any:
    """The value in the type of the DTO's field (one of ``fields``), or a clear
    error. Blank text is no value. ``normalise_field`` gives a value its domain's
    canonical form first (raising ``FieldProblem`` when it has none)."""
    if field_name not in fields:
        raise ValidationFailed(
            f"{domain} has no field {field_name!r} (fields: {', '.join(fields)})"
        )
    if is_missing(value):
        return None
    if isinstance(value, str):
        value = value.strip()
    info = dto.model_fields[field_name]
    try:
        # The field's own validation (type, constraints, config) on an empty record.
        checked = dto.__pydantic_validator__.validate_assignment(
            dto.model_construct(), field_name, normalise_field(field_name, value)
        )
        return getattr(checked, field_name)
    except FieldProblem as exc:
        raise ValidationFailed(f"{value!r} is not a valid {field_name}: {exc.message}") from exc
    except ValidationError as exc:
        reason = exc.errors()[0]["msg"]
        raise ValidationFailed(
            f"{value!r} is not a valid {domain}.{field_name} "
            f"({field_name} is {type_name(info.annotation)}): {reason}"
        ) from exc
