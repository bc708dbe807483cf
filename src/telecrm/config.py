"""The one place telecrm reads its configuration: environment variables prefixed
``TELECRM_`` and, in development, a ``.env`` file in the working directory."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SQLITE_FILE = "telecrm.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TELECRM_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = Field(
        default_factory=lambda: f"sqlite:///{Path.cwd() / DEFAULT_SQLITE_FILE}",
        description="SQLAlchemy URL; default: a SQLite file in the working directory.",
    )
    secret_key: SecretStr | None = Field(
        default=None, description="Signs the API's JWT tokens. Required to serve."
    )
    timezone: str = Field(default="UTC", description="Billing time zone (IANA name).")
    encryption_key: SecretStr | None = Field(
        default=None, description="Fernet key that encrypts secrets at rest."
    )
    log_level: str = Field(default="INFO")
    token_expire_minutes: int = Field(default=60, ge=1, le=60 * 24 * 30)
    password_min_length: int = Field(default=10, ge=8)
    login_max_failures: int = Field(
        default=5, ge=1, description="Failed logins before each further attempt is delayed."
    )
    login_lockout_max_seconds: int = Field(default=900, ge=1)

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, url: str) -> str:
        """Accept the plain ``postgresql://`` form and use psycopg 3 for it."""
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url

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
