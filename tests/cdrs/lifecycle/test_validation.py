from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest

from telecrm.cdrs.lifecycle.validation import COLUMNS, REASON_TEXT, Reason, validate

START = dt.datetime(2025, 11, 5, 9, 30, tzinfo=dt.UTC)


def _cdr(**fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": 1,
        "src": "1001",
        "dst": "08123456789",
        "start_time": START,
        "end_time": START + dt.timedelta(seconds=70),
        "duration": 70,
        "billsec": 61,
        "disposition": "ANSWERED",
    }
    row.update(fields)
    return row


def _reasons(*rows: dict[str, Any]) -> list[list[str]]:
    frame = pl.DataFrame(
        list(rows),
        schema_overrides={
            "src": pl.String,
            "dst": pl.String,
            "disposition": pl.String,
            "start_time": pl.Datetime("us", "UTC"),
            "end_time": pl.Datetime("us", "UTC"),
        },
    )
    return validate(frame.select(COLUMNS))["reasons"].to_list()


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"src": ""}, Reason.MISSING_SRC),
        ({"src": None}, Reason.MISSING_SRC),
        ({"dst": "   "}, Reason.MISSING_DST),
        ({"start_time": None}, Reason.MISSING_START_TIME),
        ({"disposition": ""}, Reason.MISSING_DISPOSITION),
        ({"end_time": START - dt.timedelta(seconds=1)}, Reason.END_BEFORE_START),
        ({"billsec": 71}, Reason.BILLSEC_EXCEEDS_DURATION),
        ({"disposition": "HUNG UP"}, Reason.UNKNOWN_DISPOSITION),
        ({"src": "anonymous"}, Reason.SRC_NOT_A_NUMBER),
        ({"dst": "s"}, Reason.DST_NOT_A_NUMBER),
        ({"dst": "0812-3456?789"}, Reason.DST_NOT_A_NUMBER),
    ],
)
def test_each_rule_names_its_reason(fields: dict[str, Any], reason: Reason) -> None:
    assert _reasons(_cdr(**fields)) == [[reason.value]]
    assert REASON_TEXT[reason]


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"src": '"Budi Santoso" <+62 21 555-0101>', "dst": "(021) 555.0199"},
        {"disposition": "no answer", "billsec": 0},
        {"end_time": None},
        {"billsec": 70},
        {"end_time": START},
    ],
)
def test_valid_cdrs_have_no_reason(fields: dict[str, Any]) -> None:
    assert _reasons(_cdr(**fields)) == [[]]


def test_every_reason_of_a_cdr_is_kept_in_order() -> None:
    bad = _cdr(
        src="",
        dst="s",
        end_time=START - dt.timedelta(seconds=5),
        billsec=99,
        disposition="WHATEVER",
    )
    assert _reasons(_cdr(id=1), {**bad, "id": 2}) == [
        [],
        [
            "missing_src",
            "end_before_start",
            "billsec_exceeds_duration",
            "unknown_disposition",
            "dst_not_a_number",
        ],
    ]
