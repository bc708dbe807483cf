"""Each PBX format's parser on its sample file (tests/fixtures/cdrs)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from telecrm.cdrs.formats import PARSERS, FileFormat, base
from telecrm.cdrs.formats.base import Chunk, Parsed, read_chunks

FIXTURES = Path(__file__).parents[2] / "fixtures" / "cdrs"


def parsed(name: str, file_format: FileFormat) -> Parsed:
    [chunk] = list(read_chunks(FIXTURES / name, 0, 1, 1000))
    return PARSERS[file_format](chunk)


def test_asterisk_csv_16_columns() -> None:
    result = parsed("Master-16.csv", FileFormat.ASTERISK_CSV)
    rows = result.rows.to_dicts()
    assert [r["line"] for r in rows] == [1, 2, 3]
    first = rows[0]
    assert (first["accountcode"], first["src"], first["dst"]) == ("ACME01", "1001", "08123456789")
    assert first["clid"] == '"Budi Santoso" <1001>'  # doubled quotes undone
    assert first["lastdata"] == "SIP/telkom/08123456789,60,tT"  # a comma inside quotes
    assert (first["start"], first["duration"], first["billsec"]) == (
        "2025-11-05 09:00:00",
        "68",
        "61",
    )
    assert rows[1]["answer"] is None and rows[1]["disposition"] == "NO ANSWER"
    assert first["uniqueid"] is None and first["sequence"] is None
    assert result.rejects.is_empty()


def test_asterisk_csv_18_columns_with_a_cut_line() -> None:
    result = parsed("Master-18.csv", FileFormat.ASTERISK_CSV)
    rows = result.rows.to_dicts()
    assert [(r["uniqueid"], r["userfield"]) for r in rows] == [
        ("1762398000.17", "vip"),
        ("1762399800.19", ""),
    ]
    assert result.rejects.to_dicts() == [
        {"line": 3, "reason": "4 fields where 16 or 18 or 21 are expected"}
    ]


def test_asterisk_csv_21_columns() -> None:
    rows = parsed("Master-21.csv", FileFormat.ASTERISK_CSV).rows.to_dicts()
    assert [(r["linkedid"], r["sequence"], r["peeraccount"]) for r in rows] == [
        ("1762498800.21", "41", ""),
        ("1762499100.23", "42", ""),
        ("1762502400.25", "43", ""),
    ]
    assert rows[1]["dst"] == "021-555-0199"


def test_asterisk_custom_sample_mapping() -> None:
    rows = parsed("cdr-custom.csv", FileFormat.ASTERISK_CUSTOM).rows.to_dicts()
    first = rows[0]
    assert (first["clid"], first["accountcode"], first["uniqueid"], first["sequence"]) == (
        '"Budi Santoso" <1001>',
        "ACME01",
        "1762563600.31",
        "51",
    )
    assert (first["duration"], first["billsec"]) == ("49", "46")
    assert rows[2]["start"] == "yesterday"  # the parser keeps it; the import rejects it


def test_freeswitch_csv_example_template() -> None:
    rows = parsed("freeswitch.csv", FileFormat.FREESWITCH_CSV).rows.to_dicts()
    assert [(r["disposition"], r["answer"]) for r in rows] == [
        ("ANSWERED", "2025-11-09 11:00:06"),
        ("NO ANSWER", ""),
        ("BUSY", ""),
    ]
    first = rows[0]
    assert (first["clid"], first["src"], first["dst"], first["accountcode"]) == (
        '"Budi Santoso" <1001>',
        "1001",
        "08123456789",
        "ACME01",
    )
    assert first["uniqueid"] == "3f1c1e0a-4b7e-4d6e-9a51-0d2f6f1b0c01"
    assert first["identity"] == "freeswitch\x1f3f1c1e0a-4b7e-4d6e-9a51-0d2f6f1b0c01"


def test_freeswitch_json_documents_url_decoded() -> None:
    result = parsed("freeswitch.json", FileFormat.FREESWITCH_JSON)
    rows = result.rows.to_dicts()
    assert [r["line"] for r in rows] == [1, 2]
    first, second = rows
    assert first["dst"] == "+62 812 3456 789"  # from the caller profile, as dialled
    assert (first["start"], first["answer"], first["end"]) == (
        "2025-11-09 12:00:00",
        "2025-11-09 12:00:04",
        "2025-11-09 12:02:04",
    )
    assert first["lastdata"] == "sofia/gateway/telkom/+62 812 3456 789"
    assert (first["disposition"], first["billsec"], first["clid"]) == (
        "ANSWERED",
        "120",
        '"Budi Santoso" <1001>',
    )
    # an older switch: callflow an object, not a list
    assert (second["src"], second["disposition"], second["answer"]) == ("1002", "NO ANSWER", None)
    [reject] = result.rejects.to_dicts()
    assert reject["line"] == 3


def test_a_line_with_an_unbalanced_quote_is_rejected_alone() -> None:
    good = (FIXTURES / "Master-16.csv").read_bytes().splitlines(keepends=True)
    data = good[0] + b'"ACME01","1001","0812,"from\n' + good[1] + b"\n" + good[2]
    result = PARSERS[FileFormat.ASTERISK_CSV](Chunk(data, 0, 1))
    assert result.rows.get_column("line").to_list() == [1, 3, 5]  # line 4 is blank
    [reject] = result.rejects.to_dicts()
    assert reject["line"] == 2
    assert Chunk(data, 0, 1).lines([2]) == ['"ACME01","1001","0812,"from']


def test_files_are_read_in_chunks_of_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "Master.csv"
    path.write_bytes((FIXTURES / "Master-16.csv").read_bytes() * 3)
    chunks = list(read_chunks(path, 0, 1, 4))
    assert [(c.offset, c.first_line, c.line_count) for c in chunks][:2] == [
        (0, 1, 4),
        (chunks[0].end, 5, 4),
    ]
    rows = pl.concat(PARSERS[FileFormat.ASTERISK_CSV](c).rows for c in chunks)
    assert rows.get_column("line").to_list() == list(range(1, 10))


@pytest.mark.parametrize("block", [1, 7, 64, 1 << 20])
def test_chunks_cut_from_blocks_are_the_files_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int
) -> None:
    monkeypatch.setattr(base, "_READ_BLOCK", block)
    lines = [b"a" * (i % 9) + b"\r\n" if i % 5 == 0 else b"b" * (i % 13) + b"\n" for i in range(50)]
    path = tmp_path / "Master.csv"
    path.write_bytes(b"".join(lines) + b"last, without a line end")
    lines.append(b"last, without a line end")
    for size in (1, 3, 25, 49, 50, 51, 1000):
        for first in (0, 7):
            offset = sum(len(line) for line in lines[:first])
            chunks = list(read_chunks(path, offset, first + 1, size))
            expected = [lines[at : at + size] for at in range(first, len(lines), size)]
            assert [c.data for c in chunks] == [b"".join(part) for part in expected]
            assert [c.line_count for c in chunks] == [len(part) for part in expected]
            assert [c.first_line for c in chunks] == list(range(first + 1, len(lines) + 1, size))
            assert [c.offset for c in chunks] == [offset] + [c.end for c in chunks[:-1]]


def test_lines_of_different_field_counts_and_blank_lines_in_one_chunk() -> None:
    sixteen = (FIXTURES / "Master-16.csv").read_bytes().splitlines(keepends=True)
    twenty_one = (FIXTURES / "Master-21.csv").read_bytes().splitlines(keepends=True)
    data = twenty_one[0] + sixteen[0] + b"\n" + twenty_one[1] + sixteen[1]
    result = PARSERS[FileFormat.ASTERISK_CSV](Chunk(data, 0, 1))
    rows = result.rows.select("line", "sequence", "start").to_dicts()
    # grouped by field count (16, then 21), each line with its number
    numbered = [(r["line"], r["sequence"]) for r in rows]
    assert numbered == [(2, None), (5, None), (1, "41"), (4, "42")]
    assert rows[0]["start"] == "2025-11-05 09:00:00"
    assert result.rejects.is_empty()
