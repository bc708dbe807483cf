"""What a fresh interpreter imports: start-up cost is paid per process, so only a new
process shows which libraries a command or a module drags in."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

_PROBE = """
import contextlib, io, json, sys
output = io.StringIO()
with contextlib.redirect_stdout(output):
    exec(sys.argv[1])
print(json.dumps({"modules": sorted(sys.modules), "output": output.getvalue()}))
"""


@dataclass
class Imported:
    modules: set[str]
    output: str

    def libraries(self) -> set[str]:
        """The top-level packages imported: ``fpdf`` for ``fpdf.fonts``."""
        return {name.split(".")[0] for name in self.modules}


def imported_by(code: str, cwd: Path) -> Imported:
    """Run ``code`` in a new interpreter (in ``cwd``, away from any ``.env``) and say
    what it imported, and what it printed."""
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, code],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    return Imported(set(report["modules"]), report["output"])
