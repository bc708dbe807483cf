from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests import factories
from tests.conftest import CliResult


def test_validate_and_statuses(cli: Callable[..., CliResult], committed_db: Engine) -> None:
    with Session(committed_db) as session:
        factories.cdr(session)
        factories.cdr(session, billsec=90, duration=60)
        factories.cdr(session, dst="s", billsec=90, duration=60)
        factories.cdr(session, src="anonymous")
        session.commit()

    result = cli("cdr", "validate")
    assert result.exit_code == 0, result.output
    assert "valid: 2, invalid: 2, with findings: 3" in result.stdout
    rows = {line.split()[1]: line for line in result.stdout.splitlines() if line.startswith("│")}
    assert "│ invalid" in rows["billsec_exceeds_duration"]
    assert "│ billed" in rows["src_not_a_number"] and "│ billed" in rows["dst_not_a_number"]
    assert "billsec_exceeds_duration" in result.stdout and "billsec is longer than" in result.stdout
    assert "dst_not_a_number" in result.stdout

    statuses = cli("cdr", "statuses")
    lines = {line.split()[1]: line for line in statuses.stdout.splitlines() if line.startswith("│")}
    assert lines["invalid"].rstrip(" │").endswith("2")
    assert lines["valid"].rstrip(" │").endswith("2")
    assert "invoiced" in lines
