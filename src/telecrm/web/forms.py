"""Forms on pages: a posted form read into a service's Pydantic model; a refused form
is shown again with each problem next to its field (status 422), from the service's
``ValidationFailed`` detail, the field its message names, or pydantic's errors; the
unit of work is rolled back first, so a service that changed an object before it
refused keeps nothing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy.orm import Session

from telecrm.errors import AppError

M = TypeVar("M", bound=BaseModel)
FieldErrors = dict[str, str]
# Where a problem that names no field of the form is shown (``FieldErrors``' key).
FORM = "__form__"


@dataclass
class FormErrors:
    """Problems by field name (the form's), and those that name no field."""

    fields: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.fields or self.general)


def _field_name(path: Iterable[Any], strip: Iterable[str]) -> str:
    parts = [str(part) for part in path]
    for prefix in strip:
        if parts and parts[0] == prefix:
            parts = parts[1:]
    return parts[-1] if parts else ""


def errors_of(
    exc: ValidationError | AppError, strip: Iterable[str] = ("body", "params")
) -> FormErrors:
    """A pydantic error or a refusal, as form errors. A refusal's ``detail`` items that
    name a field go next to it (``params.host`` is the form's ``host``); its message
    is shown above the form when no item names a field."""
    errors = FormErrors()
    strip = tuple(strip)
    if isinstance(exc, ValidationError):
        for error in exc.errors():
            name = _field_name(error["loc"], strip)
            message = str(error["msg"]).removeprefix("Value error, ")
            if name:
                errors.fields.setdefault(name, message)
            else:
                errors.general.append(message)
        return errors
    for item in exc.detail or []:
        name = _field_name(str(item.get("field") or "").split("."), strip)
        if name:
            errors.fields.setdefault(name, str(item.get("message", exc.message)))
    if not errors.fields:
        errors.general.append(exc.message)
    return errors


def refused(session: Session, exc: ValidationError | AppError, **kwargs: Any) -> FormErrors:
    """Roll the request's changes back and describe the refusal for the form."""
    session.rollback()
    return errors_of(exc, **kwargs)


def form_values(form: Mapping[str, Any], names: Iterable[str]) -> dict[str, str]:
    """The named fields' text, stripped; blank ones left out."""
    values: dict[str, str] = {}
    for name in names:
        value = form.get(name)
        if isinstance(value, str) and value.strip():
            values[name] = value.strip()
    return values


def optional_value(kind: Any, text: str | None, name: str, errors: FormErrors) -> Any:
    """A filter's value of type ``kind`` from its text (blank: None); a bad one is
    noted against the field, and the filter left out."""
    if text is None or not text.strip():
        return None
    try:
        return TypeAdapter(kind).validate_python(text.strip())
    except ValidationError as exc:
        errors.fields[name] = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
        return None


def filter_status(request: Request, errors: FormErrors) -> int:
    """422 for a page of filters with a bad value; 200 to HTMX, which swaps only a 2xx
    answer into the page (the errors are in the swapped part, next to the fields)."""
    return 422 if errors and not request.headers.get("HX-Request") else 200


def pydantic_errors(exc: ValidationError) -> FieldErrors:
    """``errors_of`` as one dict: the problems naming no field under ``FORM``."""
    found = errors_of(exc, strip=())
    errors: FieldErrors = dict(found.fields)
    if found.general:
        errors[FORM] = "; ".join(found.general)
    return errors


def parse(model: type[M], values: Mapping[str, Any]) -> tuple[M | None, FieldErrors]:
    """The model, or the problems by field."""
    try:
        return model.model_validate(values), {}
    except ValidationError as exc:
        return None, pydantic_errors(exc)


def refusal_errors(exc: AppError, fields: Iterable[str]) -> FieldErrors:
    """A service's refusal by the field its message starts with (the services name the
    field first: ``rate_group_id 7: no such rate group``), or the whole form."""
    message = exc.message
    for name in fields:
        if message.startswith(f"{name} ") or message.startswith(f"{name}:"):
            return {name: message}
    return {FORM: message}
