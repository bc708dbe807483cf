"""The ``telecrm`` command line: the commands in telecrm.cli.main, each group loaded
when it runs (telecrm.cli.lazy)."""

from __future__ import annotations

import gc
import sys


def run() -> None:
    """The ``telecrm`` executable (and ``python -m telecrm``)."""
    # Start-up creates some 150,000 objects, nearly all of which live until the process
    # ends (modules, classes, the ORM's tables). The garbage collector scanned them again
    # and again, during start-up and while the command ran, for under half a MiB of
    # garbage: a quarter to a third of the start-up time. It is off while they are made,
    # then they are frozen out of its sight; what the command creates is collected as usual.
    gc.disable()
    from telecrm.cli.main import main

    gc.freeze()
    gc.enable()
    sys.exit(main())
