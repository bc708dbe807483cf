"""What telecrm needs from an external CRM, in telecrm's own terms: records keyed by
our field names, found by our business keys. One implementation per CRM
(``crm/hubspot.py``); nothing outside those files sees a CRM's property names."""

from __future__ import annotations

import datetime as dt
import enum
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, ClassVar, Self


class CrmDomain(enum.StrEnum):
    ACCOUNTS = "accounts"
    CONTACTS = "contacts"
    DEALS = "deals"


@dataclass(frozen=True, slots=True)
class CrmRecord:
    """One record as the CRM holds it. ``values`` are keyed by our field names and
    not yet validated (the CRM may hold anything); ``account_crm_id`` is the CRM id
    of the company a contact or deal is associated with."""

    crm_id: str
    updated_at: dt.datetime | None
    values: dict[str, Any]
    account_crm_id: str | None = None


@dataclass(frozen=True, slots=True)
class OutgoingRecord:
    """A record to write. ``key`` is its business key as text; ``values`` are plain
    JSON values (enum values, decimal strings, ISO dates)."""

    key: str
    values: dict[str, Any]
    account_crm_id: str | None = None
    # The company the record was associated with before this change, when it changed.
    previous_account_crm_id: str | None = None


@dataclass(frozen=True, slots=True)
class WrittenRecord:
    crm_id: str
    updated_at: dt.datetime | None


@dataclass
class WriteResult:
    """Per business key: what the CRM took, and why it refused the others."""

    written: dict[str, WrittenRecord] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


class CrmConnector(ABC):
    name: ClassVar[str]

    @abstractmethod
    def pages(self, domain: CrmDomain) -> Iterator[list[CrmRecord]]:
        """Every record of the domain, one page at a time."""

    @abstractmethod
    def read(self, domain: CrmDomain, crm_ids: Sequence[str]) -> dict[str, CrmRecord]:
        """The records with these CRM ids, by CRM id; ids the CRM lacks are absent."""

    @abstractmethod
    def upsert(self, domain: CrmDomain, records: Sequence[OutgoingRecord]) -> WriteResult:
        """Create or update by business key, so that a retried write never duplicates."""

    @abstractmethod
    def archive(self, domain: CrmDomain, crm_ids: Sequence[str]) -> None:
        """Delete (HubSpot: archive) these records; raises if the CRM refuses."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
