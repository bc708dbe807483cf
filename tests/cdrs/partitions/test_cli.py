"""``telecrm db partitions`` and ``telecrm db retention``: what they print, in numbers;
on SQLite, that partitions are PostgreSQL's."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from telecrm.config import get_settings
from tests.conftest import CliResult

Cli = Callable[..., CliResult]


def test_on_sqlite_both_commands_say_partitions_are_postgres_only(
    cli: Cli, is_postgres: bool
) -> None:
    if is_postgres:
        pytest.skip("SQLite's answer")
    for args in (("partitions",), ("partitions", "--ensure", "2"), ("retention",)):
        result = cli("db", *args)
        assert result.exit_code == 1
        assert "partitions are PostgreSQL only" in result.output


def test_partitions_ensure_and_list(cli: Cli, is_postgres: bool) -> None:
    if not is_postgres:
        pytest.skip("partitions are PostgreSQL's")
    result = cli("db", "partitions", "--ensure", "1", "--from", "2034-05")
    assert result.exit_code == 0, result.output
    assert "created 4 partitions (cdrs_2034_05, cdr_ratings_2034_05, cdrs_2034_06" in result.stdout
    assert "0 rows moved from the default partitions" in result.stdout
    assert "cdrs_2034_05" in result.stdout and "2034-05-01T00:00:00+00:00" in result.stdout
    again = cli("db", "partitions", "--ensure", "1", "--from", "2034-05")
    assert "created 0 partitions, 0 rows moved" in again.stdout
    assert cli("db", "partitions", "--ensure", "1", "--from", "May").exit_code != 0


def test_retention_unset_and_dry_run(
    cli: Cli, is_postgres: bool, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    if not is_postgres:
        pytest.skip("partitions are PostgreSQL's")
    assert "every month is kept" in cli("db", "retention").stdout
    monkeypatch.setenv("TELECRM_CDR_RETENTION_MONTHS", "1200")
    monkeypatch.setenv("TELECRM_CDR_ARCHIVE_DIR", str(tmp_path))
    get_settings.cache_clear()
    result = cli("db", "retention", "--dry-run")
    assert result.exit_code == 0, result.output
    assert (
        "months before" in result.stdout and "would archive 0, 0 rows; refused 0" in result.stdout
    )
