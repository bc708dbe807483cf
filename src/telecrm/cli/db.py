from __future__ import annotations

import typer

from telecrm import migrations
from telecrm.cdrs.partitions.cli import partitions, retention
from telecrm.console import console

app = typer.Typer(
    help="Database schema: migrate, show the revision; the CDR partitions and retention.",
    no_args_is_help=True,
)


@app.command()
def upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Migrate the database (TELECRM_DATABASE_URL) up to REVISION, the newest by default."""
    before = migrations.current_revision()
    migrations.upgrade(revision=revision)
    after = migrations.current_revision()
    if before == after:
        console.print(f"database already at revision {after}")
    else:
        console.print(f"database migrated from {before or 'empty'} to {after}")


@app.command()
def downgrade(revision: str = typer.Argument(..., help="Target revision, or 'base'.")) -> None:
    """Migrate the database down to REVISION ('base' drops every table)."""
    before = migrations.current_revision()
    migrations.downgrade(revision=revision)
    console.print(
        f"database migrated from {before} down to {migrations.current_revision() or 'base'}"
    )


@app.command()
def current() -> None:
    """Show the database's revision and the newest one this version ships."""
    revision = migrations.current_revision()
    head = migrations.head_revision()
    state = "up to date" if revision == head else "run 'telecrm db upgrade'"
    console.print(f"database revision: {revision or 'none (empty)'}; newest: {head} ({state})")


app.command("partitions")(partitions)
app.command("retention")(retention)
