"""The ``telecrm`` executable: the command's own exit status, whatever the garbage
collector's set-up around it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def _telecrm(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "telecrm", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_exit_status_is_the_commands(tmp_path: Path) -> None:
    assert _telecrm(tmp_path, "--help").returncode == 0
    usage_error = _telecrm(tmp_path, "cdr", "no-such-command")
    assert usage_error.returncode == 2
    assert "No such command 'no-such-command'" in usage_error.stderr


def test_the_command_runs_with_the_garbage_collector_on(tmp_path: Path) -> None:
    """Off during start-up only: ``telecrm worker`` runs for weeks."""
    probe = (
        "import gc\n"
        "import telecrm.cli.main\n"
        "telecrm.cli.main.main = lambda: print(gc.isenabled(), gc.get_freeze_count()) or 0\n"
        "from telecrm.cli import run\n"
        "run()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    enabled, frozen = result.stdout.split()
    assert enabled == "True"
    assert int(frozen) > 10_000  # the start-up's objects, out of the collector's sight
