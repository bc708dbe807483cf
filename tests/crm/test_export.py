"""The export files: JSON as the records are, CSV safe for spreadsheets."""

from __future__ import annotations

import json
from pathlib import Path

from telecrm.contacts.schemas import ContactDTO
from telecrm.crm.cleaning import RejectedRow
from telecrm.crm.export import csv_columns, data_frame, save_csv, save_json, save_rejected
from telecrm.csvexport import CellKind


def _contact(**values: object) -> ContactDTO:
    base = {
        "contact_id": "C1",
        "first_name": "Ann",
        "last_name": "Lee",
        "email": "ann@example.com",
        "phone": "+6281234567890",
        "lead_source": "Website",
    }
    return ContactDTO.model_validate({**base, **values})


def test_csv_keeps_phone_numbers_and_defuses_formulas(tmp_path: Path) -> None:
    assert csv_columns(ContactDTO, ("phone",))["phone"] is CellKind.PHONE
    path = save_csv(
        tmp_path / "out" / "contacts.csv", ContactDTO, [_contact(first_name="@SUM(1)")], ("phone",)
    )
    header, row = path.read_text(encoding="utf-8").splitlines()
    assert header.startswith("contact_id,first_name,last_name,email,phone")
    assert row.startswith("C1,'@SUM(1),Lee,ann@example.com,+6281234567890")


def test_json_rejected_rows_and_the_frame(tmp_path: Path) -> None:
    records = [_contact(), _contact(contact_id="C2", phone=None)]
    saved = json.loads(save_json(tmp_path / "c.json", ContactDTO, records).read_text())
    assert [item["contact_id"] for item in saved] == ["C1", "C2"]
    rejected = save_rejected(tmp_path / "r.csv", [RejectedRow(3, "C9", None, "missing email")])
    assert rejected.read_text().splitlines()[1] == "3,C9,,missing email"
    frame = data_frame(ContactDTO, records)
    assert list(frame.columns) == list(ContactDTO.model_fields)
    assert frame["phone"].isna().tolist() == [False, True]
