from __future__ import annotations

import typer

from telecrm.config import get_settings
from telecrm.console import console
from telecrm.worker import Worker

app = typer.Typer()


@app.command()
def worker(
    interval: float | None = typer.Option(
        None, min=1, help="Seconds between runs (default: TELECRM_WORKER_INTERVAL_SECONDS)."
    ),
    once: bool = typer.Option(False, "--once", help="One round of each step, then exit (cron)."),
) -> None:
    """Fetch -> validate -> rate -> sync for every enabled source, at an interval, until
    SIGTERM or Ctrl-C (the batch in hand is finished first)."""
    settings = get_settings()
    if interval is not None:
        settings = settings.model_copy(update={"worker_interval_seconds": interval})
    runner = Worker(settings)
    if once:
        runner.pipeline_once()
        summary = runner.sync_once()
        console.print(f"one round done: {summary.synced} calls synced, {summary.failed} failed")
        return
    runner.run()
