"""The ``telecrm cdr`` group: every command of the CDR domain, each in its own
sub-package's ``cli`` module, mounted here in the order ``telecrm cdr --help`` lists
them."""

from __future__ import annotations

import typer

from telecrm.cdrs.crm_sync.cli import sync, sync_log, sync_release
from telecrm.cdrs.export.cli import export
from telecrm.cdrs.imports.cli import import_files, rejected
from telecrm.cdrs.lifecycle.cli import statuses, validate
from telecrm.cdrs.rating_run.cli import process_billing
from telecrm.cdrs.sources.cli import fetch, sources_app

cdr_app = typer.Typer(
    help="Call detail records: import PBX files, rate them, export them.", no_args_is_help=True
)
cdr_app.add_typer(sources_app, name="sources")
cdr_app.command("fetch")(fetch)
cdr_app.command("validate")(validate)
cdr_app.command("statuses")(statuses)
cdr_app.command("sync")(sync)
cdr_app.command("sync-release")(sync_release)
cdr_app.command("sync-log")(sync_log)
cdr_app.command("import")(import_files)
cdr_app.command("rejected")(rejected)
cdr_app.command("process-billing")(process_billing)
cdr_app.command("export")(export)
