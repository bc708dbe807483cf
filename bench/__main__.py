"""``make bench`` / ``python -m bench [NAME ...]``: run the benchmarks ``bench/bench_*.py``.

Each module has ``main() -> None``; it generates its own data under ``bench/data/``
(ignored by git), prints its figures, and checks them against the issue's target.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path

from rich.console import Console

console = Console()


def available() -> list[str]:
    return sorted(
        info.name.removeprefix("bench_")
        for info in pkgutil.iter_modules([str(Path(__file__).parent)])
        if info.name.startswith("bench_")
    )


def main(names: list[str]) -> int:
    names = names or available()
    unknown = sorted(set(names) - set(available()))
    if unknown:
        console.print(f"unknown benchmark(s): {', '.join(unknown)}; have: {', '.join(available())}")
        return 2
    for name in names:
        console.rule(f"bench {name}")
        started = time.perf_counter()
        importlib.import_module(f"bench.bench_{name}").main()
        console.print(f"bench {name}: {time.perf_counter() - started:.1f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
