"""``telecrm cdr import`` and ``telecrm cdr rejected``, end to end on the test database."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from telecrm.cdrs.imports import repository, service
from telecrm.cdrs.models import Cdr, CdrImport, CdrReject
from telecrm.cdrs.partitions import service as partitions
from telecrm.config import get_settings
from tests.conftest import CliResult

FIXTURES = Path(__file__).parents[2] / "fixtures" / "cdrs"
Cli = Callable[..., CliResult]


def stored(engine: Engine) -> list[Cdr]:
    with Session(engine) as session:
        return list(session.scalars(select(Cdr).order_by(Cdr.start_time)))


def rejects(engine: Engine) -> list[CdrReject]:
    with Session(engine) as session:
        return list(session.scalars(select(CdrReject).order_by(CdrReject.line_number)))


def imports(engine: Engine) -> list[tuple[int, int, int, int]]:
    """(lines, imported, duplicates, rejected) of each import, oldest first."""
    with Session(engine) as session:
        return [
            (r.lines_read, r.imported, r.duplicates, r.rejected)
            for r in session.scalars(select(CdrImport).order_by(CdrImport.id))
        ]


def run_import(cli: Cli, *args: str, zone: str = "Asia/Jakarta") -> CliResult:
    result = cli("cdr", "import", *args, "--timezone", zone, "--source", "pbx1")
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.parametrize(
    ("name", "file_format", "imported", "rejected"),
    [
        ("Master-16.csv", "asterisk-csv", 3, 0),
        ("Master-18.csv", "asterisk-csv", 2, 1),
        ("Master-21.csv", "asterisk-csv", 2, 1),  # a negative billsec
        ("cdr-custom.csv", "asterisk-custom", 2, 1),  # a start time that is no time
        ("freeswitch.csv", "freeswitch-csv", 3, 0),
        ("freeswitch.json", "freeswitch-json", 2, 1),  # a document cut short
    ],
)
def test_each_format_imports_its_sample(
    cli: Cli, committed_db: Engine, name: str, file_format: str, imported: int, rejected: int
) -> None:
    result = run_import(cli, str(FIXTURES / name), "--format", file_format)
    assert f"│ {name} " in result.stdout
    cdrs = stored(committed_db)
    assert len(cdrs) == imported
    assert all(cdr.source == "pbx1" and cdr.rating_status.value == "pending" for cdr in cdrs)
    assert len(rejects(committed_db)) == rejected
    with Session(committed_db) as session:
        record = session.scalars(select(CdrImport)).one()
    assert (record.status, record.imported, record.rejected) == ("done", imported, rejected)
    assert record.file_sha256 == hashlib.sha256((FIXTURES / name).read_bytes()).hexdigest()


def test_times_are_read_in_the_files_zone_and_stored_in_utc(cli: Cli, committed_db: Engine) -> None:
    run_import(cli, str(FIXTURES / "Master-16.csv"), "--format", "asterisk-csv")
    first = stored(committed_db)[0]
    assert first.start_time == dt.datetime(2025, 11, 5, 2, 0, tzinfo=dt.UTC)  # 09:00 WIB
    assert first.answer_time == dt.datetime(2025, 11, 5, 2, 0, 7, tzinfo=dt.UTC)
    assert (first.duration, first.billsec, first.dst, first.calldate) == (
        68,
        61,
        "08123456789",
        first.start_time,
    )


def test_clock_changes(cli: Cli, committed_db: Engine, tmp_path: Path) -> None:
    template = (FIXTURES / "Master-16.csv").read_text().splitlines()[0]
    lines = [
        # New York, 9 March 2025: 02:00 to 03:00 does not exist
        template.replace("2025-11-05 09:00:00", "2025-03-09 02:30:00"),
        # 2 November 2025: 01:30 happens twice; the first (EDT) is taken
        template.replace("2025-11-05 09:00:00", "2025-11-02 01:30:00").replace("0001", "0009"),
    ]
    path = tmp_path / "Master.csv"
    path.write_text("\n".join(lines) + "\n")
    run_import(cli, str(path), "--format", "asterisk-csv", zone="America/New_York")
    [cdr] = stored(committed_db)
    assert cdr.start_time == dt.datetime(2025, 11, 2, 5, 30, tzinfo=dt.UTC)
    [reject] = rejects(committed_db)
    assert reject.line_number == 1
    assert reject.reason == (
        "start time 2025-03-09 02:30:00 does not exist in America/New_York (the clocks skipped it)"
    )


def test_reimport_and_overlap_store_each_call_once(
    cli: Cli, committed_db: Engine, tmp_path: Path
) -> None:
    first = FIXTURES / "Master-18.csv"
    run_import(cli, str(first), "--format", "asterisk-csv")
    run_import(cli, str(first), "--format", "asterisk-csv")
    overlap = tmp_path / "rotated.csv"
    overlap.write_text(
        first.read_text().splitlines()[1] + "\n" + (FIXTURES / "Master-16.csv").read_text()
    )
    run_import(cli, str(overlap), "--format", "asterisk-csv")
    assert imports(committed_db) == [(3, 2, 0, 1), (3, 0, 2, 1), (4, 3, 1, 0)]
    assert len(stored(committed_db)) == 5
    assert len(rejects(committed_db)) == 1  # the same bad line, imported twice, kept once


def test_a_call_is_stored_once_across_partitions_and_time_zones(
    cli: Cli, committed_db: Engine, tmp_path: Path, is_postgres: bool
) -> None:
    """On PostgreSQL the calls are partitioned by month and unique by key and start
    (migration 0014). A call at 03:00 on 1 November as written is 31 October in
    Jakarta and 1 November in UTC: imported again, or again under the other zone, it
    is still the one call, in October's partition."""
    if is_postgres:
        with Session(committed_db) as session, session.begin():
            partitions.ensure_partitions(session, 1, today=dt.date(2025, 10, 1))
    line = (FIXTURES / "Master-16.csv").read_text().splitlines()[0]
    call = tmp_path / "midnight.csv"
    call.write_text(line.replace("2025-11-05 09:0", "2025-11-01 03:0") + "\n")
    run_import(cli, str(call), "--format", "asterisk-csv")
    run_import(cli, str(call), "--format", "asterisk-csv")
    run_import(cli, str(call), "--format", "asterisk-csv", zone="UTC")
    run_import(cli, str(call), "--format", "asterisk-csv", zone="America/Los_Angeles")
    assert imports(committed_db) == [(1, 1, 0, 0)] + [(1, 0, 1, 0)] * 3
    [cdr] = stored(committed_db)
    assert cdr.start_time == dt.datetime(2025, 10, 31, 20, 0, tzinfo=dt.UTC)
    if is_postgres:
        with committed_db.connect() as connection:
            where = connection.exec_driver_sql("SELECT tableoid::regclass::text FROM cdrs")
            assert where.scalar_one() == "cdrs_2025_10"


def test_a_call_in_two_freeswitch_formats_is_one_call(
    cli: Cli, committed_db: Engine, tmp_path: Path
) -> None:
    line = (FIXTURES / "freeswitch.csv").read_text().splitlines()[0]
    run_import(cli, str(FIXTURES / "freeswitch.csv"), "--format", "freeswitch-csv")
    (tmp_path / "other.csv").write_text(line.replace('"Budi Santoso"', '"B. Santoso"') + "\n")
    run_import(cli, str(tmp_path / "other.csv"), "--format", "freeswitch-csv")
    assert imports(committed_db)[1] == (1, 0, 1, 0)  # same uuid and start: the same call


def test_the_unique_key_is_the_start_and_a_hash_of_what_the_pbx_wrote(
    cli: Cli, committed_db: Engine
) -> None:
    run_import(cli, str(FIXTURES / "Master-21.csv"), "--format", "asterisk-csv")
    first = stored(committed_db)[0]
    line = (FIXTURES / "Master-21.csv").read_text().splitlines()[0]
    # Master.csv's 21 columns are in the canonical order
    identity = "\x1f".join(["asterisk", *next(csv.reader([line]))])
    digest = hashlib.sha256(identity.encode()).hexdigest()[:40]
    assert first.unique_key == f"20251107140000-{digest}"
    assert first.call_id == "1762498800.21"


def test_rejected_lists_file_line_and_reason(cli: Cli, committed_db: Engine) -> None:
    run_import(cli, str(FIXTURES / "cdr-custom.csv"), "--format", "asterisk-custom")
    result = cli("cdr", "rejected")
    assert result.exit_code == 0, result.output
    assert "1 rejected rows" in result.stdout
    assert "cdr-custom.csv" in result.stdout
    assert "start time yesterday is not YYYY-MM-DD HH:MM:SS" in result.stdout
    [reject] = rejects(committed_db)
    assert reject.line_number == 3
    assert reject.raw.startswith('"""Sari"" <1002>","1002"')


def test_a_crashed_import_continues_after_its_last_batch(
    committed_db: Engine, cli: Cli, tmp_path: Path
) -> None:
    path = tmp_path / "Master.csv"
    shutil.copy(FIXTURES / "Master-16.csv", path)
    with Session(committed_db) as session:
        batches = service.import_file(session, path, "asterisk-csv", "UTC", "pbx1", 1)
        next(batches)
        session.commit()  # the first batch is kept; then the process dies
    run_import(cli, str(path), "--format", "asterisk-csv")
    with Session(committed_db) as session:
        record = session.scalars(select(CdrImport)).one()  # the same import, continued
        assert (record.status, record.lines_read, record.imported) == ("done", 3, 3)
        assert session.scalar(select(func.count()).select_from(Cdr)) == 3


def test_a_changed_file_is_not_continued_but_read_again(
    committed_db: Engine, cli: Cli, tmp_path: Path
) -> None:
    path = tmp_path / "Master.csv"
    shutil.copy(FIXTURES / "Master-16.csv", path)
    with Session(committed_db) as session:
        next(service.import_file(session, path, "asterisk-csv", "UTC", "pbx1", 1))
        session.commit()
    shutil.copy(FIXTURES / "Master-18.csv", path)  # replaced by another file
    run_import(cli, str(path), "--format", "asterisk-csv")
    assert imports(committed_db) == [(1, 1, 0, 0), (3, 2, 0, 1)]


def test_bad_options(cli: Cli, committed_db: Engine, tmp_path: Path) -> None:
    missing = cli("cdr", "import", str(tmp_path / "none.csv"), "--format", "asterisk-csv")
    assert missing.exit_code == 1 and "no file" in missing.stderr
    zone = cli(
        "cdr", "import", str(FIXTURES / "Master-16.csv"), "--format", "asterisk-csv",
        "--timezone", "Mars/Olympus",
    )  # fmt: skip
    assert zone.exit_code == 1 and "unknown time zone" in zone.stderr
    fmt = cli("cdr", "import", str(FIXTURES / "Master-16.csv"), "--format", "opensips")
    assert fmt.exit_code == 2


@pytest.mark.parametrize("stored_first", [False, True], ids=["before", "while-storing"])
def test_ctrl_c_keeps_the_committed_batches_and_a_rerun_completes(
    cli: Cli, committed_db: Engine, monkeypatch: pytest.MonkeyPatch, stored_first: bool
) -> None:
    monkeypatch.setenv("TELECRM_CDR_IMPORT_BATCH_SIZE", "1")
    get_settings.cache_clear()
    insert = repository.insert_cdrs
    calls = []

    def interrupted_at_the_second_batch(session: Session, rows: object) -> int:
        calls.append(rows)
        inserted = insert(session, rows) if stored_first or len(calls) != 2 else 0  # type: ignore[arg-type]
        if len(calls) == 2:
            raise KeyboardInterrupt
        return inserted

    monkeypatch.setattr(repository, "insert_cdrs", interrupted_at_the_second_batch)
    args = ("cdr", "import", str(FIXTURES / "Master-16.csv"), "--format", "asterisk-csv")
    assert cli(*args).exit_code == 130
    with Session(committed_db) as session:
        record = session.scalars(select(CdrImport)).one()
        assert (record.status, record.lines_read, record.imported) == ("interrupted", 1, 1)
    monkeypatch.setattr(repository, "insert_cdrs", insert)
    assert cli(*args).exit_code == 0
    assert imports(committed_db) == [(3, 3, 0, 0)]
    assert len(stored(committed_db)) == 3


def test_calls_are_stored_validated_and_a_repeated_line_counted_once(
    cli: Cli, committed_db: Engine, tmp_path: Path
) -> None:
    good, other, _ = (FIXTURES / "Master-16.csv").read_text().splitlines()
    anonymous = good.replace('"1001","0812', '"anonymous","0812').replace("ANSWERED", "HUNG UP")
    no_billsec = other.replace(",30,0,", ",30,,")
    path = tmp_path / "Master.csv"
    path.write_text("\n".join([good, good, anonymous, no_billsec, other]) + "\n")
    run_import(cli, str(path), "--format", "asterisk-csv")
    assert imports(committed_db) == [(5, 3, 1, 1)]
    by_src = {cdr.src: cdr for cdr in stored(committed_db)}
    assert [(cdr.status, cdr.validation_errors) for cdr in by_src.values()] == [
        ("valid", None),
        ("invalid", ["unknown_disposition", "src_not_a_number"]),
        ("valid", None),
    ]
    [reject] = rejects(committed_db)
    assert (reject.line_number, reject.reason) == (4, "billsec  is not a whole number")


def _with_nul(name: str, line: int, field: str) -> tuple[str, str]:
    """The fixture's text with a NUL byte put into ``field`` (its text as written) on
    ``line``; and that line as a reject keeps it."""
    lines = (FIXTURES / name).read_text().splitlines()
    assert field in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(field, field[:4] + "\x00" + field[4:], 1)
    return "\n".join(lines) + "\n", lines[line - 1].replace("\x00", "\\x00")


@pytest.mark.parametrize(
    ("name", "file_format", "field", "column", "imported", "other_rejects"),
    [
        ("Master-16.csv", "asterisk-csv", '"0215551234"', "dst", 2, 0),
        ("Master-16.csv", "asterisk-csv", "SIP/telkom/0215551234", "lastdata", 2, 0),
        ("cdr-custom.csv", "asterisk-custom", '"0215551234"', "dst", 1, 1),
        ("freeswitch.csv", "freeswitch-csv", '"08123456780"', "dst", 2, 0),
        ("freeswitch.csv", "freeswitch-csv", '"Sari"', "clid", 2, 0),
    ],
)
def test_a_nul_byte_rejects_its_row_alone(
    cli: Cli,
    committed_db: Engine,
    tmp_path: Path,
    name: str,
    file_format: str,
    field: str,
    column: str,
    imported: int,
    other_rejects: int,
) -> None:
    """PostgreSQL's text cannot hold a NUL: the row is a reject naming the field, the
    rest of its batch is stored, and importing the file again changes nothing."""
    text, raw = _with_nul(name, 2, field)
    path = tmp_path / name
    path.write_text(text)
    run_import(cli, str(path), "--format", file_format)
    run_import(cli, str(path), "--format", file_format)
    lines = len(text.splitlines())
    rejected = 1 + other_rejects
    assert imports(committed_db) == [
        (lines, imported, 0, rejected),
        (lines, 0, imported, rejected),
    ]
    assert len(stored(committed_db)) == imported
    nul = rejects(committed_db)[0]
    assert (nul.line_number, nul.reason, nul.raw) == (2, f"field {column} contains a NUL byte", raw)
    assert len(rejects(committed_db)) == rejected


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        # escaped in the JSON text, or URL-encoded in a channel variable
        (lambda line: line.replace('"0215551234"', '"0215\\u0000551234"'), "field dst"),
        (lambda line: line.replace("%2F0215551234", "%2F0215%00551234"), "field lastdata"),
        # the byte itself: not JSON at all
        (lambda line: line.replace('"0215551234"', '"0215\x00551234"'), "Invalid control"),
    ],
)
def test_a_nul_in_a_freeswitch_json_document(
    cli: Cli,
    committed_db: Engine,
    tmp_path: Path,
    document: Callable[[str], str],
    reason: str,
) -> None:
    first, second, _ = (FIXTURES / "freeswitch.json").read_text().splitlines()
    changed = document(second)
    assert changed != second
    path = tmp_path / "calls.cdr.json"
    path.write_text(f"{first}\n{changed}\n")
    run_import(cli, str(path), "--format", "freeswitch-json")
    run_import(cli, str(path), "--format", "freeswitch-json")
    assert imports(committed_db) == [(2, 1, 0, 1), (2, 0, 1, 1)]
    [reject] = rejects(committed_db)
    assert reject.line_number == 2 and reject.reason.startswith(reason)
    assert "\x00" not in reject.raw and reject.raw == changed.replace("\x00", "\\x00")


@pytest.mark.parametrize(
    ("name", "file_format", "word", "imported"),
    [
        ("Master-16.csv", "asterisk-csv", '"Sari"', 3),
        ("cdr-custom.csv", "asterisk-custom", '"Sari"', 2),
        ("freeswitch.csv", "freeswitch-csv", '"Sari"', 3),
        ("freeswitch.json", "freeswitch-json", '"Sari Dewi"', 2),
    ],
)
def test_a_file_that_is_not_utf8_keeps_its_calls(
    cli: Cli,
    committed_db: Engine,
    tmp_path: Path,
    name: str,
    file_format: str,
    word: str,
    imported: int,
) -> None:
    """A PBX writing Latin-1 (é as one byte, 0xE9) in a caller's name: the byte is
    replaced (U+FFFD) and the call kept, rather than a whole file refused for it."""
    text = (FIXTURES / name).read_text()
    assert word in text
    path = tmp_path / name
    path.write_bytes(text.replace(word, word[:-1] + ' Andrés"').encode("latin-1"))
    run_import(cli, str(path), "--format", file_format)
    assert imports(committed_db)[0][1] == imported
    clids = [cdr.clid or "" for cdr in stored(committed_db)]
    assert len(clids) == imported and any("Andr\ufffds" in clid for clid in clids), clids


def test_an_uploaded_file_is_imported_under_its_name_and_its_copy_removed(
    db_session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where the copy goes
    content = (FIXTURES / "Master-16.csv").read_bytes()
    with (FIXTURES / "Master-16.csv").open("rb") as stream:
        records = list(
            service.import_upload(db_session, stream, "Master.csv", "asterisk-csv", "UTC", 2)
        )
    record = records[-1]
    assert len(records) == 2  # 3 lines, 2 a batch
    assert (record.file_name, record.status, record.lines_read) == ("upload:Master.csv", "done", 3)
    assert record.imported + record.rejected == content.count(b"\n")
    assert list(tmp_path.iterdir()) == []
