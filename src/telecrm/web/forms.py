"""Forms of the console: a posted form read into a service's Pydantic model, and each
problem put next to its field. The services' own refusals (``ValidationFailed``,
``Conflict``) name the field first (``rate_group_id 7: no such rate group``), so the
same message goes by that field."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from telecrm.errors import AppError

M = TypeVar("M", bound=BaseModel)
FieldErrors = dict[str, str]
# Where a problem that names no field of the form is shown.
FORM = "__form__"


def filled(form: Mapping[str, Any], fields: Iterable[str]) -> dict[str, str]:
    """The form's text for ``fields``, stripped; a field left empty is absent."""
    values: dict[str, str] = {}
    for name in fields:
        value = form.get(name)
        if isinstance(value, str) and value.strip():
            values[name] = value.strip()
    return values


def pydantic_errors(exc: ValidationError) -> FieldErrors:
    errors: FieldErrors = {}
    for problem in exc.errors():
        location = [str(part) for part in problem["loc"]]
        name = location[0] if location else FORM
        message = problem["msg"].removeprefix("Value error, ")
        errors[name] = f"{errors[name]}; {message}" if name in errors else message
    return errors


def parse(model: type[M], values: Mapping[str, Any]) -> tuple[M | None, FieldErrors]:
    """The model, or the problems by field."""
    try:
        return model.model_validate(values), {}
    except ValidationError as exc:
        return None, pydantic_errors(exc)


def refusal_errors(exc: AppError, fields: Iterable[str]) -> FieldErrors:
    """A service's refusal by the field its message starts with (or the whole form)."""
    message = exc.message
    for name in fields:
        if message.startswith(f"{name} ") or message.startswith(f"{name}:"):
            return {name: message}
    return {FORM: message}
