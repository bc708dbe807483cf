"""``telecrm cdr sources ...`` and ``telecrm cdr fetch`` (the ``cdr`` group's)."""

from __future__ import annotations

import json
from typing import Any

import typer
from pydantic import SecretStr

from telecrm.auth.models import Role
from telecrm.cdrs.sources import service, staging
from telecrm.cdrs.sources.models import CdrSourceType
from telecrm.cdrs.sources.schemas import CdrSourceCreate, CdrSourceUpdate
from telecrm.config import get_settings
from telecrm.console import console, print_table, progress
from telecrm.db import session_scope
from telecrm.errors import ValidationFailed

# Whoever runs the command line holds the server's own configuration and files.
SERVER_SHELL = Role.ADMIN

sources_app = typer.Typer(
    help="Where CDRs come from: PBX folders, databases, push.", no_args_is_help=True
)

PARAM_HELP = (
    "KEY=VALUE, repeatable: path, format, pattern (directory); dialect, host, port, "
    "database, username, table, sslmode (asterisk_db); timezone (any)."
)


def _params(pairs: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValidationFailed(f"--param {pair!r}: write KEY=VALUE")
        params[key.strip()] = value
    return params


def _print_sources(sources: list[Any]) -> None:
    print_table(
        f"{len(sources)} CDR sources",
        [
            "id",
            "name",
            "type",
            "enabled",
            "parameters",
            "password",
            "last fetch",
            "status",
            "last error",
        ],
        [
            (
                s.id,
                s.name,
                s.type.value,
                "yes" if s.enabled else "no",
                json.dumps(s.params, sort_keys=True),
                "set" if s.has_password else "",
                s.last_fetch_at,
                s.last_fetch_status,
                s.last_error,
            )
            for s in sources
        ],
    )


@sources_app.command("list")
def list_sources() -> None:
    """List the sources (never their passwords)."""
    with session_scope() as session:
        _print_sources([service.read_model(s) for s in service.list_sources(session)])


@sources_app.command("add")
def add_source(
    name: str = typer.Argument(..., help="A short name, e.g. pbx-jakarta-1."),
    source_type: CdrSourceType = typer.Option(..., "--type"),
    param: list[str] = typer.Option([], "--param", help=PARAM_HELP),
    password: bool = typer.Option(False, "--password", help="Prompt for the database password."),
    disabled: bool = typer.Option(False, "--disabled", help="Add it switched off."),
) -> None:
    """Add a source. Example: add pbx-db --type asterisk_db --param dialect=postgresql
    --param host=10.0.0.5 --param database=asterisk --param username=telecrm --password"""
    secret = SecretStr(typer.prompt("password", hide_input=True)) if password else None
    data = CdrSourceCreate(
        name=name, type=source_type, enabled=not disabled, params=_params(param), password=secret
    )
    with session_scope() as session:
        source = service.create_source(session, data, get_settings(), SERVER_SHELL)
        console.print(f"added CDR source {source.id} '{source.name}' ({source.type.value})")


@sources_app.command("update")
def update_source(
    name: str = typer.Argument(...),
    enable: bool | None = typer.Option(None, "--enable/--disable"),
    param: list[str] = typer.Option([], "--param", help="Replaces all parameters. " + PARAM_HELP),
    password: bool = typer.Option(False, "--password", help="Prompt for a new password."),
) -> None:
    """Switch a source on or off, change its parameters or its password. Changing where
    a database source connects (dialect, host, port, database, username, sslmode)
    drops its password: give --password again."""
    secret = SecretStr(typer.prompt("password", hide_input=True)) if password else None
    data = CdrSourceUpdate(
        enabled=enable, params=_params(param) if param else None, password=secret
    )
    with session_scope() as session:
        source = service.get_source_by_name(session, name)
        had_password = source.secret is not None
        service.update_source(session, source.id, data, get_settings(), SERVER_SHELL)
        console.print(f"CDR source '{name}' updated")
        if had_password and source.secret is None and secret is None:
            console.print("its connection changed, so its password was dropped: add --password")


@sources_app.command("remove")
def remove_source(name: str = typer.Argument(...)) -> None:
    """Remove a source (its CDRs stay)."""
    with session_scope() as session:
        service.delete_source(session, service.get_source_by_name(session, name).id, SERVER_SHELL)
        console.print(f"CDR source '{name}' removed")


@sources_app.command("runs")
def list_runs(
    name: str = typer.Argument(...), limit: int = typer.Option(20, min=1, max=500)
) -> None:
    """The latest fetch runs of a source."""
    with session_scope() as session:
        source = service.get_source_by_name(session, name)
        runs = service.fetch_runs(session, source.id, limit)
        print_table(
            f"fetch runs of {name}",
            [
                "id",
                "started",
                "trigger",
                "status",
                "tries",
                "files",
                "read",
                "imported",
                "duplicates",
                "rejected",
                "invalid",
                "error",
            ],
            [
                (
                    r.id,
                    r.started_at,
                    r.trigger,
                    r.status.value,
                    r.attempts,
                    r.files,
                    r.rows_read,
                    r.imported,
                    r.duplicates,
                    r.rejected,
                    r.invalid,
                    r.error,
                )
                for r in runs
            ],
        )


def fetch(
    source: str = typer.Option(..., "--source", help="The source's name."),
    start: str = typer.Option(
        ..., "--start", help="ISO date or time (billing time zone unless given)."
    ),
    end: str = typer.Option(..., "--end", help="ISO date (that whole day) or time (exclusive)."),
    show: int = typer.Option(20, min=0, help="How many of the window's CDRs to print."),
) -> None:
    """Fetch a window of CDRs from a source; fetching it again stores nothing twice."""
    settings = get_settings()
    with session_scope() as session:
        result = service.fetch_window(
            session, settings, source, start, end, "cli", limit=max(show, 1)
        )
    run = result.run
    print_table(
        f"fetch from {source}: {run.window_start} to {run.window_end}",
        ["tries", "files", "read", "imported", "duplicates", "rejected", "invalid"],
        [
            (
                run.attempts,
                run.files,
                run.rows_read,
                run.imported,
                run.duplicates,
                run.rejected,
                run.invalid,
            )
        ],
    )
    if show:
        print_table(
            f"CDRs of the window (first {show})",
            [
                "id",
                "call id",
                "start",
                "src",
                "dst",
                "billsec",
                "disposition",
                "status",
                "why invalid",
            ],
            [
                (
                    c.id,
                    c.call_id,
                    c.start_time,
                    c.src,
                    c.dst,
                    c.billsec,
                    c.disposition,
                    c.status,
                    ", ".join(c.validation_errors or []),
                )
                for c in result.items[:show]
            ],
        )


@sources_app.command("drain")
def drain(
    source: str | None = typer.Option(None, "--source", help="Only this push source's posts."),
) -> None:
    """Import the posts /api/cdrs/push staged, in batches (TELECRM_PUSH_DRAIN_BATCH),
    each committed: what a server that does not drain (TELECRM_PUSH_DRAIN_SECONDS=0)
    leaves to the worker or to this command."""
    settings = get_settings()
    with session_scope(write=False) as session:
        waiting = staging.staged_posts(session)
    with progress() as bar:
        task = bar.add_task("importing pushed posts", total=waiting)
        counts = staging.drain_all(
            session_scope, settings, source, lambda done: bar.update(task, completed=done.posts)
        )
    console.print(
        f"drained {counts.posts:,} posts ({counts.calls:,} calls): {counts.imported:,} imported, "
        f"{counts.duplicates:,} duplicates, {counts.rejected:,} rejected, in {counts.runs:,} runs"
    )
