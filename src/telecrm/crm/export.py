"""The export files of a CRM domain: the records as JSON, as CSV safe for
spreadsheets (through ``telecrm.csvexport``), the records left out with their
reason, and the seed's pandas DataFrame."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, TypeAdapter

from telecrm.crm.casting import is_number
from telecrm.crm.cleaning import RejectedRow
from telecrm.csvexport import CellKind, Writer

if TYPE_CHECKING:
    import pandas as pd


def csv_columns(dto: type[BaseModel], phone_fields: Sequence[str] = ()) -> dict[str, CellKind]:
    """The CSV export's columns (the DTO's fields) and what each holds: numbers by
    their type, phone numbers as ``phone_fields`` says, the rest text."""
    return {
        name: CellKind.PHONE
        if name in phone_fields
        else CellKind.NUMBER
        if is_number(info.annotation)
        else CellKind.TEXT
        for name, info in dto.model_fields.items()
    }


def save_json(path: Path, dto: type[BaseModel], records: Sequence[BaseModel]) -> Path:
    """The records as a JSON array."""
    path.parent.mkdir(parents=True, exist_ok=True)
    adapter: TypeAdapter[list[Any]] = TypeAdapter(list[dto])  # type: ignore[valid-type]
    path.write_bytes(adapter.dump_json(list(records), indent=2))
    return path


def save_csv(
    path: Path,
    dto: type[BaseModel],
    records: Sequence[BaseModel],
    phone_fields: Sequence[str] = (),
) -> Path:
    """The records as CSV with a header; no value is an empty cell."""
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = csv_columns(dto, phone_fields)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = Writer(out, columns)
        for record in records:
            values = record.model_dump(mode="json")
            writer.writerow(values[name] for name in columns)
    return path


def save_rejected(path: Path, rejected: Sequence[RejectedRow]) -> Path:
    """The records left out, with their row in the CRM's listing and the reason:
    what a person needs to fix them in the CRM."""
    columns = {"row": CellKind.NUMBER, "key": CellKind.TEXT, "crm_id": CellKind.TEXT}
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = Writer(out, columns | {"reason": CellKind.TEXT})
        for item in rejected:
            writer.writerow([item.row, item.key, item.crm_id, item.reason])
    return path


def data_frame(dto: type[BaseModel], records: Sequence[BaseModel]) -> pd.DataFrame:
    import pandas as pd  # the seed API's promise; nothing else here needs pandas

    return pd.DataFrame([record.model_dump() for record in records], columns=list(dto.model_fields))
