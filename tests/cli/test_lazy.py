"""Each command group is imported when one of its commands runs: ``telecrm --help``
imports none of them, and a group's commands do not pay for the other groups' stacks
(the PDF library, pandas, the web framework, the migrations)."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from telecrm.cli.lazy import LazyCommand
from telecrm.cli.main import COMMANDS
from tests.fresh_process import imported_by

# Libraries that take tenths of a second to import, and the commands that need them.
HEAVY = {"alembic", "fastapi", "fpdf", "pandas", "uvicorn"}
NEEDED_BY = {"db": {"alembic"}, "demo": {"alembic"}, "serve": {"alembic", "uvicorn"}}


def _modules(commands: dict[str, LazyCommand]) -> set[str]:
    return {lazy.target.split(":")[0] for lazy in commands.values()}


def _help_of(name: str) -> str:
    return f"from telecrm.cli.main import main\nassert main([{name!r}, '--help']) == 0"


def test_the_top_level_help_imports_no_group(tmp_path: Path) -> None:
    imported = imported_by("from telecrm.cli.main import main\nmain(['--help'])", tmp_path)
    assert imported.modules & _modules(COMMANDS) == set()
    assert imported.libraries() & HEAVY == set()


@pytest.mark.parametrize("group", ["cdr", "invoices", "crm", "users"])
def test_a_group_imports_only_what_its_commands_need(group: str, tmp_path: Path) -> None:
    imported = imported_by(_help_of(group), tmp_path)
    assert _modules({group: COMMANDS[group]}) <= imported.modules
    assert imported.libraries() & HEAVY <= NEEDED_BY.get(group, set())


def test_a_group_loaded_on_demand_has_all_its_commands(cli) -> None:
    result = cli("cdr", "--help")
    assert result.exit_code == 0
    # The commands of every sub-package of telecrm.cdrs: imports, rating_run, export,
    # sources, lifecycle and crm_sync.
    for command in ("import", "process-billing", "export", "sources", "validate", "sync"):
        assert f" {command} " in result.stdout


@pytest.mark.parametrize("name", list(COMMANDS))
def test_the_listed_help_is_the_commands_own(name: str) -> None:
    command = COMMANDS[name].load(name)
    assert command.name == name
    first_paragraph = inspect.cleandoc(command.help or "").split("\n\n")[0]
    assert " ".join(first_paragraph.split()) == COMMANDS[name].help
