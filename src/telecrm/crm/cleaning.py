"""Cleaning the CRM's records: pure functions from raw rows (our field names, values
as the CRM holds them) to validated DTOs and the rows left out, with the reason.
No database, no settings: what a domain adds (its DTO, its business key, the
canonical form of some fields) is passed in."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from telecrm.crm.schemas import CrmFields

DtoT = TypeVar("DtoT", bound=CrmFields)

# A domain's canonical form of a record's values (contacts: phones in E.164).
Normaliser = Callable[[Mapping[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class RejectedRow:
    """A record left out, and why. ``row`` is its 1-based position in the input
    (None when the problem was found against the database, after cleaning)."""

    row: int | None
    key: str | None
    crm_id: str | None
    reason: str


@dataclass
class CleanResult(Generic[DtoT]):
    records: list[DtoT]
    rejected: list[RejectedRow]


class FieldProblem(ValueError):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field_name = field_name
        self.message = message


def is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, float) and math.isnan(value)


def without_blanks(values: Mapping[str, Any]) -> dict[str, Any]:
    """Blank text and NaN are no value."""
    return {name: None if is_missing(value) else value for name, value in values.items()}


def errors(exc: ValidationError) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(part) for part in error["loc"]) or "record", "message": error["msg"]}
        for error in exc.errors()
    ]


def summary(problems: Sequence[Mapping[str, str]]) -> str:
    return "; ".join(f"{problem['field']}: {problem['message']}" for problem in problems)


def required_fields(dto: type[BaseModel]) -> list[str]:
    return [name for name, info in dto.model_fields.items() if info.is_required()]


def rejected_row(
    number: int, values: Mapping[str, Any], key_field: str, reason: str
) -> RejectedRow:
    key = values.get(key_field)
    crm_id = values.get("crm_id")
    return RejectedRow(
        number,
        None if key is None else str(key),
        None if crm_id is None else str(crm_id),
        reason,
    )


def clean_rows(
    rows: Iterable[Mapping[str, Any]],
    dto: type[DtoT],
    key_field: str,
    normalise: Normaliser = without_blanks,
    missing_reasons: Mapping[str, str] | None = None,
) -> CleanResult[DtoT]:
    """Validate raw rows into DTOs. Rows missing a required field, rows that do not
    validate and duplicates of a business key are left out and reported with the
    reason; optional fields that are missing stay None."""
    rejected: list[RejectedRow] = []
    complete = handle_missing_values(rows, dto, key_field, rejected, missing_reasons or {})
    valid = validated(complete, dto, key_field, normalise, rejected)
    records = remove_duplicates(valid, key_field, rejected)
    rejected.sort(key=lambda item: item.row or 0)
    return CleanResult(records, rejected)


def handle_missing_values(
    rows: Iterable[Mapping[str, Any]],
    dto: type[BaseModel],
    key_field: str,
    rejected: list[RejectedRow],
    missing_reasons: Mapping[str, str],
) -> Iterator[tuple[int, dict[str, Any]]]:
    required = required_fields(dto)
    for number, row in enumerate(rows, start=1):
        values = without_blanks(row)
        missing = [name for name in required if values.get(name) is None]
        if missing:
            reasons = [missing_reasons.get(name, name) for name in missing]
            rejected.append(
                rejected_row(number, values, key_field, "missing " + ", ".join(reasons))
            )
            continue
        yield number, values


def validated(
    rows: Iterable[tuple[int, dict[str, Any]]],
    dto: type[DtoT],
    key_field: str,
    normalise: Normaliser,
    rejected: list[RejectedRow],
) -> Iterator[tuple[int, DtoT]]:
    for number, values in rows:
        try:
            yield number, dto.model_validate(normalise(values))
        except FieldProblem as exc:
            rejected.append(rejected_row(number, values, key_field, str(exc)))
        except ValidationError as exc:
            rejected.append(rejected_row(number, values, key_field, summary(errors(exc))))


def remove_duplicates(
    rows: Iterable[tuple[int, DtoT]], key_field: str, rejected: list[RejectedRow]
) -> list[DtoT]:
    """One record per business key: the one the CRM updated last (on a tie, the
    later row)."""
    oldest = dt.datetime.min.replace(tzinfo=dt.UTC)
    kept: dict[Any, tuple[int, DtoT]] = {}
    for number, record in rows:
        key = getattr(record, key_field)
        if key not in kept:
            kept[key] = (number, record)
            continue
        newer, older = (number, record), kept[key]
        if (record.crm_updated_at or oldest) < (older[1].crm_updated_at or oldest):
            newer, older = older, newer
        kept[key] = newer
        rejected.append(
            RejectedRow(
                older[0],
                str(key),
                older[1].crm_id,
                f"duplicate {key_field} {key}: row {newer[0]} is kept (the one updated last)",
            )
        )
    return [record for _, record in kept.values()]
