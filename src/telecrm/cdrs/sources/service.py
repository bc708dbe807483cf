"""CDR sources: their configuration (secrets encrypted at rest), and fetching from them."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import SecretStr, ValidationError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from telecrm import crypto
from telecrm.auth.models import Role
from telecrm.cdrs.lifecycle.service import (
    ValidationSummary,
    findings_report,
    last_cdr_id,
    validate_cdrs,
)
from telecrm.cdrs.sources import directory, importing, repository
from telecrm.cdrs.sources.asterisk_db import DEFAULT_PORTS, AsteriskCdrDatabase, AsteriskDbParams
from telecrm.cdrs.sources.models import CdrFetchRun, CdrSource, CdrSourceType, FetchRunStatus
from telecrm.cdrs.sources.schemas import (
    PARAMS_MODELS,
    CdrSourceCreate,
    CdrSourceRead,
    CdrSourceUpdate,
    FetchResult,
    FetchRunRead,
    ManagedCdrRead,
)
from telecrm.cdrs.window import parse_window
from telecrm.config import Settings
from telecrm.db import utcnow
from telecrm.errors import (
    AppError,
    ExternalServiceError,
    Forbidden,
    SourceDisabled,
    SourceNameTaken,
    SourceNotFound,
    ValidationFailed,
)
from telecrm.notifications.report import RunReport
from telecrm.notifications.service import notify
from telecrm.retry import RetriesExhausted, RetryPolicy, call_with_retries, describe_error

# Only a database source has a secret; the others refuse one rather than keep it unused.
TYPES_WITH_PASSWORD = {CdrSourceType.ASTERISK_DB}

# Who may create, change or remove each type of source (the routes let billing in;
# the type decides). A directory source reads files of this server: admin only.
MANAGERS: dict[CdrSourceType, frozenset[Role]] = {
    CdrSourceType.DIRECTORY: frozenset({Role.ADMIN}),
    CdrSourceType.ASTERISK_DB: frozenset({Role.ADMIN, Role.BILLING}),
    CdrSourceType.PUSH: frozenset({Role.ADMIN, Role.BILLING}),
}
# Where a database source's password goes: changing any of these is pointing the
# stored password somewhere else, so it is dropped unless given again.
CONNECTION_PARAMS = ("dialect", "host", "port", "database", "username", "sslmode")


def _may_manage(role: Role, source_type: CdrSourceType, action: str) -> None:
    allowed = MANAGERS[source_type]
    if role not in allowed:
        raise Forbidden(
            f"role {role.value} may not {action} a {source_type.value} source "
            f"(allowed: {', '.join(sorted(r.value for r in allowed))})"
        )


def _connection(params: dict[str, Any]) -> tuple[Any, ...]:
    """Where a database source connects, with the defaults filled in."""
    defaults = {"port": DEFAULT_PORTS.get(str(params.get("dialect"))), "sslmode": "prefer"}
    return tuple(params.get(name) or defaults.get(name) for name in CONNECTION_PARAMS)


def _checked_params(source_type: CdrSourceType, params: dict[str, Any]) -> dict[str, Any]:
    try:
        model = PARAMS_MODELS[source_type].model_validate(params)
    except ValidationError as exc:
        problems = [
            {
                "field": "params." + ".".join(str(part) for part in error["loc"]),
                "message": error["msg"],
            }
            for error in exc.errors()
        ]
        summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
        raise ValidationFailed(
            f"invalid {source_type.value} parameters: {summary}", problems
        ) from exc
    return model.model_dump(mode="json", exclude_none=True)


def _checked(
    source_type: CdrSourceType, params: dict[str, Any], settings: Settings
) -> dict[str, Any]:
    checked = _checked_params(source_type, params)
    if source_type == CdrSourceType.DIRECTORY:
        directory.checked_folder(checked["path"], settings)
    return checked


def _set_password(source: CdrSource, password: SecretStr | None, settings: Settings) -> None:
    if password is None:
        return
    if source.type not in TYPES_WITH_PASSWORD:
        raise ValidationFailed(f"a {source.type.value} source has no password")
    value = password.get_secret_value()
    source.secret = crypto.encrypt(settings, value) if value else None


def password_of(source: CdrSource, settings: Settings) -> str | None:
    return crypto.decrypt(settings, source.secret) if source.secret else None


def read_model(source: CdrSource) -> CdrSourceRead:
    return CdrSourceRead.model_validate(
        {
            **{
                name: getattr(source, name)
                for name in CdrSourceRead.model_fields
                if name != "has_password"
            },
            "has_password": source.secret is not None,
        }
    )


def list_sources(session: Session, enabled_only: bool = False) -> Sequence[CdrSource]:
    return repository.all_sources(session, enabled_only)


def get_source(session: Session, source_id: int) -> CdrSource:
    source = repository.get(session, source_id)
    if source is None:
        raise SourceNotFound(f"no CDR source {source_id}")
    return source


def unknown_source(session: Session, name: str) -> SourceNotFound:
    known = ", ".join(s.name for s in repository.all_sources(session)) or "none configured"
    return SourceNotFound(f"no CDR source named {name!r} (known: {known})")


def get_source_by_name(session: Session, name: str) -> CdrSource:
    source = repository.by_name(session, name)
    if source is None:
        raise unknown_source(session, name)
    return source


def create_source(
    session: Session, data: CdrSourceCreate, settings: Settings, role: Role
) -> CdrSource:
    _may_manage(role, data.type, "create")
    if repository.by_name(session, data.name) is not None:
        raise SourceNameTaken(f"a CDR source named {data.name!r} already exists")
    source = CdrSource(
        name=data.name,
        type=data.type,
        enabled=data.enabled,
        params=_checked(data.type, data.params, settings),
    )
    _set_password(source, data.password, settings)
    repository.add(session, source)
    return source


def update_source(
    session: Session, source_id: int, data: CdrSourceUpdate, settings: Settings, role: Role
) -> CdrSource:
    """A change of where a database source connects drops its stored password: the
    password is given again in the same change, or the source has none until it is."""
    source = get_source(session, source_id)
    _may_manage(role, source.type, "change")
    if data.enabled is not None:
        source.enabled = data.enabled
    if data.params is not None:
        params = _checked(source.type, data.params, settings)
        if _connection(params) != _connection(source.params):
            source.secret = None
        source.params = params
    _set_password(source, data.password, settings)
    session.flush()
    return source


def delete_source(session: Session, source_id: int, role: Role) -> None:
    """The source's configuration and fetch runs go; its CDRs stay (they are calls)."""
    source = get_source(session, source_id)
    _may_manage(role, source.type, "remove")
    repository.delete(session, source)


def fetch_runs(
    session: Session, source_id: int | None = None, limit: int = 50, before_id: int | None = None
) -> Sequence[CdrFetchRun]:
    return repository.runs(session, source_id, limit, before_id)


# --- fetching ----------------------------------------------------------------------

# What a network failure looks like from each kind of source: the PBX database's
# driver errors (SQLAlchemy wraps them) and the OS's (a folder on an NFS mount).
NETWORK_ERRORS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError, OSError)
_CURSOR_PREFIX = "id:"


def _source_zone(source: CdrSource, settings: Settings) -> str:
    return str(source.params.get("timezone") or settings.timezone)


def _read_source(
    session: Session,
    source: CdrSource,
    settings: Settings,
    start: dt.datetime | None,
    end: dt.datetime | None,
    counts: importing.ImportCounts,
) -> None:
    """One try at reading the source into the CDR table (counts add up across tries:
    what a failed try stored is found again as duplicates by the next)."""
    zone = _source_zone(source, settings)
    if source.type == CdrSourceType.ASTERISK_DB:
        # checked again as stored: a source set up before a rule existed obeys it too
        params = _checked_params(source.type, source.params)
        reader = AsteriskCdrDatabase(
            AsteriskDbParams(
                dialect=params["dialect"],
                host=params["host"],
                port=int(params.get("port") or DEFAULT_PORTS[params["dialect"]]),
                database=params["database"],
                username=params["username"],
                password=password_of(source, settings),
                table=params.get("table", "cdr"),
                timezone=zone,
                sslmode=params.get("sslmode", "prefer"),
            ),
            settings.cdr_fetch_connect_timeout,
        )
        try:
            for chunk in reader.rows(start, end):
                importing.import_asterisk_rows(session, chunk, source.name, zone, counts)
        finally:
            reader.close()
    elif source.type == CdrSourceType.DIRECTORY:
        params = source.params
        for found in directory.matching_files(params["path"], params.get("pattern", "*"), settings):
            if found.real is None:
                importing.skip_file(session, found.path, str(found.skipped), source.name, counts)
                continue
            importing.import_file(
                session,
                found.real,
                params["format"],
                source.name,
                zone,
                settings.cdr_import_batch_size,
                counts,
            )


def _run_report(source: CdrSource, run: CdrFetchRun, found: ValidationSummary) -> RunReport:
    return RunReport(
        kind="fetch",
        subject=f"from {source.name}",
        ok=run.status is FetchRunStatus.SUCCEEDED,
        counts={
            "tries": run.attempts,
            "files": run.files,
            "read": run.rows_read,
            "imported": run.imported,
            "duplicates": run.duplicates,
            "rejected": run.rejected,
            "invalid": run.invalid,
            # billed calls too: a finding is reported whether or not it excludes the call
            "with findings": found.flagged,
            **{f"finding {reason}": n for reason, n in sorted(found.reasons.items())},
        },
        examples=found.examples,
        error=run.error,
        started_at=run.started_at,
        finished_at=run.finished_at or utcnow(),
    )


def record_run(
    source: CdrSource, run: CdrFetchRun, counts: importing.ImportCounts, error: str | None
) -> None:
    run.files, run.rows_read = counts.files, counts.rows
    run.imported, run.duplicates, run.rejected = counts.imported, counts.duplicates, counts.rejected
    run.status = FetchRunStatus.FAILED if error else FetchRunStatus.SUCCEEDED
    run.error = error
    run.finished_at = utcnow()
    source.last_fetch_at = run.finished_at
    source.last_fetch_status = run.status.value
    source.last_error = error


def _finish(
    session: Session,
    source: CdrSource,
    run: CdrFetchRun,
    counts: importing.ImportCounts,
    settings: Settings,
    error: str | None,
) -> None:
    """Record the run's outcome and send the one report, with the invalid CDRs the
    source stored since its last run (for a push source: every post since). The
    import validated what it stored; a CDR still ``new`` (stored another way) is
    validated here."""
    validate_cdrs(session, source=source.name)
    session.flush()
    up_to_id = last_cdr_id(session)
    summary = findings_report(
        session,
        source.name,
        repository.last_reported_cdr_id(session, source.id),
        up_to_id,
        settings.notify_examples,
    )
    run.invalid = summary.invalid
    run.last_cdr_id = up_to_id
    record_run(source, run, counts, error)
    session.flush()
    notify(_run_report(source, run, summary), settings)


def run_fetch(
    session: Session,
    settings: Settings,
    source: CdrSource,
    start: dt.datetime | None,
    end: dt.datetime | None,
    trigger: str,
    sleep: Callable[[float], None] = time.sleep,
) -> CdrFetchRun:
    """Fetch ``[start, end)`` from the source, retrying network errors with backoff;
    record the run either way. A failure is raised after it is recorded and reported
    (``keep_changes``: the record of the failure is committed)."""
    run = CdrFetchRun(source_id=source.id, trigger=trigger, window_start=start, window_end=end)
    repository.add(session, run)
    counts = importing.ImportCounts()

    def attempt() -> None:
        run.attempts += 1
        _read_source(session, source, settings, start, end, counts)

    try:
        if source.type != CdrSourceType.PUSH:
            call_with_retries(
                attempt,
                RetryPolicy.for_cdr_fetch(settings),
                NETWORK_ERRORS,
                f"fetch from {source.name}",
                sleep,
            )
    except RetriesExhausted as exc:
        message = (
            f"{source.name}: unreachable after {exc.attempts} tries: "
            f"{describe_error(exc.last_error)}"
        )
        _finish(session, source, run, counts, settings, message)
        raise ExternalServiceError(message, keep_changes=True) from exc
    except AppError as exc:
        message = f"{source.name}: {exc.message}"
        _finish(session, source, run, counts, settings, message)
        raise ExternalServiceError(message, keep_changes=True) from exc
    _finish(session, source, run, counts, settings, None)
    if source.type == CdrSourceType.ASTERISK_DB:
        latest = repository.latest_start(session, source.name)
        if latest is not None and (source.watermark is None or latest > source.watermark):
            source.watermark = latest
    return run


def fetch_window(
    session: Session,
    settings: Settings,
    source_name: str,
    start_text: str,
    end_text: str,
    trigger: str,
    cursor: str | None = None,
    limit: int = 100,
) -> FetchResult:
    """Seed 000's fetch: the window from the source, stored once, and the window's
    CDRs of that source a page at a time (``cursor`` from the previous page)."""
    start, end = parse_window(start_text, end_text, settings)
    source = get_source_by_name(session, source_name)
    if not source.enabled:
        raise SourceDisabled(f"CDR source {source_name!r} is disabled")
    after_id = 0
    if cursor is not None:
        if not cursor.startswith(_CURSOR_PREFIX) or not cursor[len(_CURSOR_PREFIX) :].isdigit():
            raise ValidationFailed(f"cursor {cursor!r} is not one this API gave")
        after_id = int(cursor[len(_CURSOR_PREFIX) :])
    run = run_fetch(session, settings, source, start, end, trigger)
    cdrs = repository.window_cdrs(session, source.name, start, end, after_id, limit + 1)
    next_cursor = f"{_CURSOR_PREFIX}{cdrs[limit - 1].id}" if len(cdrs) > limit else None
    return FetchResult(
        run=FetchRunRead.model_validate(run),
        items=[ManagedCdrRead.model_validate(cdr) for cdr in cdrs[:limit]],
        next_cursor=next_cursor,
    )


def fetch_incremental(session: Session, settings: Settings, source_name: str) -> CdrFetchRun:
    """The worker's fetch: a database from a little before the latest call it gave
    (calls are written when they end), a folder's new files, nothing for push."""
    source = get_source_by_name(session, source_name)
    start = None
    if source.type == CdrSourceType.ASTERISK_DB and source.watermark is not None:
        start = source.watermark - dt.timedelta(minutes=settings.cdr_db_overlap_minutes)
    return run_fetch(session, settings, source, start, None, "worker")
