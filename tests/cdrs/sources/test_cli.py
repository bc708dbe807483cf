from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from telecrm.cdrs.sources.models import CdrSource
from telecrm.config import get_settings
from tests.cdrs.sources.test_end_to_end import MASTER_CSV
from tests.conftest import CliResult


def test_sources_are_managed_and_fetched_from_the_command_line(
    cli: Callable[..., CliResult],
    committed_db: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "Master.csv").write_text(MASTER_CSV)
    add = (
        "cdr", "sources", "add", "pbx-files", "--type", "directory",
        "--param", f"path={tmp_path}", "--param", "format=asterisk-csv",
        "--param", "timezone=Asia/Jakarta",
    )  # fmt: skip
    refused = cli(*add)
    assert refused.exit_code == 1 and "set TELECRM_CDR_SOURCE_ROOTS" in refused.stderr
    monkeypatch.setenv("TELECRM_CDR_SOURCE_ROOTS", json.dumps([str(tmp_path)]))
    get_settings.cache_clear()
    added = cli(*add)
    assert added.exit_code == 0, added.output
    assert "added CDR source" in added.stdout

    fetched = cli(
        "cdr", "fetch", "--source", "pbx-files", "--start", "2025-11-05", "--end", "2025-11-05"
    )
    assert fetched.exit_code == 0, fetched.output
    assert "081234567890" in fetched.stdout  # the window's CDRs are shown
    assert "1762333200.1" in fetched.stdout

    runs = cli("cdr", "sources", "runs", "pbx-files")
    assert runs.exit_code == 0 and "succeeded" in runs.stdout
    listed = cli("cdr", "sources", "list")
    assert "pbx-files" in listed.stdout and "asterisk-csv" in listed.stdout

    assert cli("cdr", "sources", "update", "pbx-files", "--disable").exit_code == 0
    with Session(committed_db) as session:
        source = session.scalars(select(CdrSource)).one()
        assert source.enabled is False
    disabled = cli(
        "cdr", "fetch", "--source", "pbx-files", "--start", "2025-11-05", "--end", "2025-11-06"
    )
    assert disabled.exit_code == 1 and "is disabled" in disabled.stderr

    assert cli("cdr", "sources", "remove", "pbx-files").exit_code == 0
    missing = cli(
        "cdr", "fetch", "--source", "pbx-files", "--start", "2025-11-05", "--end", "2025-11-06"
    )
    assert missing.exit_code == 1
    assert "no CDR source named 'pbx-files'" in missing.stderr


def test_bad_parameters_are_one_clear_line(cli: Callable[..., CliResult]) -> None:
    result = cli("cdr", "sources", "add", "pbx", "--type", "asterisk_db", "--param", "hostname")
    assert result.exit_code == 1
    assert "--param 'hostname': write KEY=VALUE" in result.stderr
    result = cli("cdr", "sources", "add", "pbx", "--type", "asterisk_db", "--param", "host=x")
    assert result.exit_code == 1
    assert "params.dialect" in result.stderr


def test_moving_a_database_source_says_its_password_was_dropped(
    cli: Callable[..., CliResult], committed_db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("typer.prompt", lambda *args, **kwargs: "s3cret")
    params = ["--param", "dialect=postgresql", "--param", "database=asterisk"]
    params += ["--param", "username=telecrm"]
    added = cli(
        "cdr", "sources", "add", "pbx-db", "--type", "asterisk_db",
        *params, "--param", "host=10.0.0.5", "--password",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    moved = cli("cdr", "sources", "update", "pbx-db", *params, "--param", "host=10.0.0.6")
    assert moved.exit_code == 0, moved.output
    assert "password was dropped" in moved.stdout
    with Session(committed_db) as session:
        source = session.scalars(select(CdrSource)).one()
        assert (source.params["host"], source.secret) == ("10.0.0.6", None)
