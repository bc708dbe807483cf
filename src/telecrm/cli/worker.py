from __future__ import annotations

import typer

from telecrm.config import get_settings
from telecrm.console import console
from telecrm.worker import Worker

app = typer.Typer()
beat_app = typer.Typer()


@app.command()
def worker(
    interval: float | None = typer.Option(
        None, min=1, help="Seconds between runs (default: TELECRM_WORKER_INTERVAL_SECONDS)."
    ),
    once: bool = typer.Option(False, "--once", help="One round of each step, then exit (cron)."),
    concurrency: int | None = typer.Option(
        None, min=1, help="With a broker: worker processes (default: one per CPU)."
    ),
) -> None:
    """Run the background jobs until SIGTERM or Ctrl-C (the task in hand is finished
    first).

    With TELECRM_BROKER_URL: a Celery worker on telecrm's queue; without: fetch ->
    validate -> rate -> sync for every enabled source, at an interval, in process."""
    settings = get_settings()
    if interval is not None:
        settings = settings.model_copy(update={"worker_interval_seconds": interval})
    if settings.broker_url is not None and not once:
        from telecrm.jobs.celery_app import app_for

        arguments = ["worker", "--queues", settings.jobs_queue, "--loglevel", settings.log_level]
        if concurrency is not None:
            arguments += ["--concurrency", str(concurrency)]
        app_for(settings).worker_main(arguments)
        return
    runner = Worker(settings)
    if once:
        runner.pipeline_once()
        summary = runner.sync_once()
        console.print(f"one round done: {summary.synced} calls synced, {summary.failed} failed")
        return
    runner.run()


@beat_app.command()
def beat(
    schedule_file: str = typer.Option(
        "celerybeat-schedule", help="Where beat keeps when each entry last ran."
    ),
) -> None:
    """Send the periodic schedule's jobs to the workers (Celery beat; run exactly one).

    Needs TELECRM_BROKER_URL."""
    from telecrm.jobs.celery_app import app_for

    settings = get_settings()
    app_for(settings).start(["beat", "--loglevel", settings.log_level, "--schedule", schedule_file])
