"""The one place telecrm reads its configuration: environment variables prefixed
``TELECRM_`` and, in development, a ``.env`` file in the working directory."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from telecrm import numbering
from telecrm.crm.connector import ENUM_FIELDS, check_field_mapping

DEFAULT_SQLITE_FILE = "telecrm.db"
# HS256 signs with the key itself: a short key can be found by trying keys offline
# against any one token.
SECRET_KEY_MIN_LENGTH = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TELECRM_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        hide_input_in_errors=True,  # a refused secret is not printed back
    )

    database_url: str = Field(
        default_factory=lambda: f"sqlite:///{Path.cwd() / DEFAULT_SQLITE_FILE}",
        description="SQLAlchemy URL; default: a SQLite file in the working directory.",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description=f"Signs the API's JWT tokens (at least {SECRET_KEY_MIN_LENGTH} characters). "
        "Required to serve.",
    )
    timezone: str = Field(default="UTC", description="Billing time zone (IANA name).")
    encryption_key: SecretStr | None = Field(
        default=None, description="Fernet key that encrypts secrets at rest."
    )
    log_level: str = Field(default="INFO")
    token_expire_minutes: int = Field(default=60, ge=1, le=60 * 24 * 30)
    demo: bool = Field(
        default=False,
        description="Demo install (set by `telecrm serve --demo`): the sign-in page lists "
        "the demo users and their password.",
    )
    password_min_length: int = Field(default=10, ge=8)
    login_max_failures: int = Field(
        default=5, ge=1, description="Failed logins before each further attempt is delayed."
    )
    login_lockout_max_seconds: int = Field(default=900, ge=1)
    max_upload_mb: int = Field(
        default=20,
        ge=1,
        le=10_000,
        description="The largest request body (a rate deck upload, a PBX push), in MB; "
        "larger ones get 413 before they are read.",
    )
    invoice_number_prefix: str = Field(
        default="INV",
        pattern=r"^[A-Z0-9]{1,10}$",
        description="Invoice numbers are PREFIX-YYYY-NNNNNN, sequential per year.",
    )
    invoice_issuer_name: str = Field(
        default="telecrm", description="The operator's company name, printed on invoices."
    )
    invoice_issuer_address: str = Field(
        default="", description="The operator's postal address (lines separated by newlines)."
    )
    invoice_issuer_tax_id: str = Field(
        default="", description="The operator's tax number (NPWP in Indonesia), on invoices."
    )
    invoice_issuer_email: str = Field(default="", description="Billing contact e-mail.")
    invoice_issuer_phone: str = Field(default="", description="Billing contact phone.")
    invoice_payment_instructions: str = Field(
        default="", description="How to pay (bank, account number), printed on invoices."
    )
    late_calls: Literal["next_invoice", "adjustment"] = Field(
        default="next_invoice",
        description="Where a call that arrives after its month's invoice was sent is billed: "
        "on the contract's next invoice, as calls of earlier periods, or on an adjustment "
        "(a debit note) of that invoice.",
    )

    # --- rating and CDR import (RATING.md) ---------------------------------------
    rewrite_rules: list[tuple[str, str]] = Field(
        default_factory=lambda: [("+", ""), ("00", ""), ("0", "62")],
        description="JSON [[prefix, replacement], ...]: the first that matches a dialled "
        "number is applied once. A contract's own rules replace these.",
    )
    min_number_length: int = Field(
        default=7, ge=1, description="A shorter cleaned number is an internal call, not billed."
    )
    answered_dispositions: list[str] = Field(
        default_factory=lambda: ["ANSWERED"],
        description="The CDR dispositions of calls that cost money.",
    )
    cdr_import_batch_size: int = Field(
        default=50_000,
        ge=1,
        description="Rows per committed batch of 'cdr import' (what a crash may redo).",
    )
    # --- CRM: the external CRM (HubSpot) and phone numbers ---------------------
    hubspot_token: SecretStr | None = Field(
        default=None,
        description="HubSpot private-app access token. Unset: no external CRM (local only).",
    )
    hubspot_base_url: str = Field(default="https://api.hubapi.com")
    hubspot_connect_timeout: float = Field(default=5.0, gt=0, description="Seconds.")
    hubspot_read_timeout: float = Field(default=30.0, gt=0, description="Seconds.")
    hubspot_max_attempts: int = Field(
        default=5, ge=1, le=20, description="Tries of a request on network errors, 429, 5xx."
    )
    hubspot_backoff_seconds: float = Field(
        default=1.0, ge=0, description="Wait after the first failed try; doubles each time."
    )
    hubspot_backoff_max_seconds: float = Field(default=30.0, ge=0)
    hubspot_retry_after_max_seconds: float = Field(
        default=120.0, ge=0, description="Longest Retry-After that is honoured as given."
    )
    hubspot_page_size: int = Field(default=100, ge=1, le=100)
    hubspot_batch_size: int = Field(default=100, ge=1, le=100)
    # The defaults are the connector's (crm/hubspot.py); these are an operator's changes.
    hubspot_properties: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="JSON {domain: {field: HubSpot property}}; merged over the defaults.",
    )
    hubspot_enum_values: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="JSON {field: {our value: HubSpot value}}; merged over the defaults.",
    )
    phone_default_region: str = Field(
        default="ID", description="Region (ISO 3166 code) of phone numbers given without +country."
    )

    # --- CDR management: fetching from PBXes, notifications, calls to the CRM ---
    push_drain_seconds: float = Field(
        default=1.0,
        ge=0,
        description="How often each API server process imports the posts staged by "
        "/api/cdrs/push; 0: never in the server (the worker or 'cdr sources drain' does).",
    )
    push_drain_batch: int = Field(
        default=2000, ge=1, description="Staged posts imported per transaction by a drain."
    )
    cdr_fetch_max_attempts: int = Field(
        default=4, ge=1, le=20, description="Tries of a source fetch that fails on the network."
    )
    cdr_fetch_backoff_seconds: float = Field(
        default=1.0, ge=0, description="Wait after the first failed try; doubles, with jitter."
    )
    cdr_fetch_backoff_max_seconds: float = Field(default=30.0, ge=0)
    cdr_fetch_connect_timeout: float = Field(default=10.0, gt=0, description="Seconds.")
    cdr_source_roots: list[Path] = Field(
        default_factory=list,
        description='JSON ["/var/log/asterisk/cdr-csv", ...]: the only folders (and what is '
        "below them) a directory CDR source may read. Empty: directory sources are refused.",
    )
    cdr_db_overlap_minutes: int = Field(
        default=240,
        ge=0,
        description="An Asterisk CDR database is re-read from this long before the latest call "
        "seen: a call is written when it ends, so one that started earlier arrives later.",
    )
    cdr_retention_months: int | None = Field(
        default=None,
        ge=1,
        description="PostgreSQL: a month of calls older than this many whole months is "
        "archived to Parquet, then its partitions dropped (`telecrm db retention`). "
        "Unset: kept forever.",
    )
    cdr_archive_dir: Path = Field(
        default_factory=lambda: Path.cwd() / "cdr-archive",
        description="Where retention writes a month's Parquet files (one per table) and "
        "where `cdr export` reads an archived month.",
    )
    notify_webhook_url: str | None = Field(
        default=None, description="Run reports are POSTed here as JSON. Unset: no webhook."
    )
    notify_webhook_timeout: float = Field(default=10.0, gt=0, description="Seconds.")
    notify_examples: int = Field(
        default=5, ge=0, le=100, description="Examples of bad CDRs in one run report."
    )
    smtp_host: str | None = Field(default=None, description="Unset: no e-mail reports.")
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: str = Field(
        default="starttls", pattern=r"^(starttls|ssl|none)$", description="starttls, ssl or none."
    )
    smtp_username: str | None = Field(default=None)
    smtp_password: SecretStr | None = Field(default=None)
    smtp_from: str = Field(default="telecrm@localhost")
    smtp_to: list[str] = Field(
        default_factory=list, description='Recipients of run reports, JSON: ["ops@example.com"].'
    )
    smtp_timeout: float = Field(default=15.0, gt=0, description="Seconds.")
    crm_call_sync_batch_size: int = Field(
        default=100, ge=1, le=100, description="Calls per HubSpot batch request (at most 100)."
    )
    crm_call_sync_max_attempts: int = Field(
        default=5, ge=1, description="Failed runs after which a CDR waits to be re-queued."
    )
    crm_call_sync_backoff_seconds: float = Field(
        default=300.0, ge=0, description="Wait before a failed CDR's next try; doubles each time."
    )
    crm_call_sync_backoff_max_seconds: float = Field(default=6 * 3600.0, ge=0)
    crm_call_sync_lease_minutes: float = Field(
        default=15.0,
        gt=0,
        description="How long a batch out at the CRM is kept from other runs: longer than the "
        "client's worst case (its retries, Retry-After). A run that dies holds its batch that "
        "long, unless `telecrm cdr sync-release` releases it.",
    )
    crm_call_key_property: str = Field(
        default="telecrm_cdr_key",
        description="HubSpot call property (unique values) holding each CDR's key: calls are "
        "upserted by it, so a retried batch never creates a call twice.",
    )
    crm_daily_request_limit: int = Field(
        default=250_000,
        ge=0,
        description="HubSpot requests per day that the call sync may use (the account's daily "
        "limit, less what other integrations need).",
    )
    worker_interval_seconds: float = Field(
        default=300.0,
        gt=0,
        description="How often the schedule fetches, validates, rates and syncs (the pause "
        "of the in-process `telecrm worker` between two rounds; Celery beat's interval).",
    )

    # --- background jobs (Celery) ------------------------------------------------
    broker_url: str | None = Field(
        default=None,
        description="Celery broker: amqp://user:password@host:5672/vhost (RabbitMQ) or "
        "redis://host:6379/0. Unset: jobs run in process (`telecrm worker` loops).",
    )
    jobs_queue: str = Field(
        default="telecrm",
        pattern=r"^[A-Za-z0-9_.:-]{1,100}$",
        description="The broker queue of telecrm's tasks (what `telecrm worker` consumes).",
    )
    jobs_keep_days: int = Field(
        default=30, ge=1, description="Finished jobs are forgotten after this many days."
    )
    crm_extract_dir: Path = Field(
        default=Path("crm-extract"),
        description="Where the scheduled CRM extract writes <domain>.json and .csv.",
    )
    invoice_drafts_hour: int = Field(
        default=2,
        ge=0,
        le=23,
        description="Hour (billing time zone) of the 1st at which beat generates last "
        "month's draft invoices.",
    )

    # --- scale-out: cache, metrics, logs ------------------------------------------
    broker_queues: list[str] = Field(
        default_factory=list,
        description='JSON ["telecrm", ...]: the broker queues whose depth /metrics reports '
        "(default: TELECRM_JOBS_QUEUE).",
    )
    redis_url: str | None = Field(
        default=None,
        description="redis://host:6379/0: aggregate reads are cached there. Unset: no cache.",
    )
    cache_ttl_seconds: int = Field(
        default=300, ge=1, description="The longest a cached aggregate is kept, in seconds."
    )
    cache_prefix: str = Field(
        default="telecrm",
        pattern=r"^[A-Za-z0-9_.:-]{1,64}$",
        description="Prefix of every cache key: one Redis database may serve several sites.",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="Bearer token that may read /metrics (a scraper's); admins always may.",
    )
    log_format: Literal["text", "json"] = Field(
        default="text", description="json: one JSON object per line, with a request or task id."
    )
    health_timeout_seconds: float = Field(
        default=2.0, gt=0, description="How long a readiness check waits for each service."
    )

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, url: str) -> str:
        """Accept the plain ``postgresql://`` form and use psycopg 3 for it."""
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url

    @field_validator("secret_key")
    @classmethod
    def _long_secret_key(cls, key: SecretStr | None) -> SecretStr | None:
        if key is not None and len(key.get_secret_value().strip()) < SECRET_KEY_MIN_LENGTH:
            raise ValueError(
                f"TELECRM_SECRET_KEY is too short: at least {SECRET_KEY_MIN_LENGTH} characters "
                "(generate one: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        return key

    @field_validator("hubspot_properties")
    @classmethod
    def _known_crm_fields(cls, given: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        try:
            check_field_mapping(given)
        except ValueError as exc:
            raise ValueError(f"hubspot_properties: {exc}") from exc
        return given

    @field_validator("hubspot_enum_values")
    @classmethod
    def _known_enum_fields(cls, given: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        unknown = sorted(set(given) - set(ENUM_FIELDS))
        if unknown:
            raise ValueError(
                f"hubspot_enum_values: unknown key {unknown[0]!r} (known: {', '.join(ENUM_FIELDS)})"
            )
        return given

    @field_validator("phone_default_region")
    @classmethod
    def _known_phone_region(cls, region: str) -> str:
        region = region.upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"unknown phone region {region!r} (use an ISO 3166 code like ID)")
        return region

    @field_validator("rewrite_rules")
    @classmethod
    def _valid_rewrite_rules(cls, rules: list[tuple[str, str]]) -> list[tuple[str, str]]:
        return list(numbering.rewrite_rules(rules))

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {name!r} (use an IANA name)") from exc
        return name

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, level: str) -> str:
        level = level.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("log level must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return level

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
