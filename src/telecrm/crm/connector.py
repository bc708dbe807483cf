"""What telecrm needs from an external CRM, in telecrm's own terms: records keyed by
our field names, found by our business keys. One implementation per CRM
(``crm/hubspot.py``); nothing outside those files sees a CRM's property names."""

from __future__ import annotations

import datetime as dt
import enum
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, ClassVar, Self


class CrmDomain(enum.StrEnum):
    ACCOUNTS = "accounts"
    CONTACTS = "contacts"
    DEALS = "deals"


# The fields of each domain that a connector keeps in the CRM's own properties (the
# account of a contact or a deal is an association, not a property).
MAPPED_FIELDS: dict[CrmDomain, tuple[str, ...]] = {
    CrmDomain.ACCOUNTS: ("account_id", "account_name", "industry", "account_value", "region"),
    CrmDomain.CONTACTS: (
        "contact_id",
        "first_name",
        "last_name",
        "email",
        "phone",
        "job_title",
        "lead_source",
        "last_contact_date",
    ),
    CrmDomain.DEALS: (
        "deal_id",
        "deal_name",
        "deal_size",
        "probability_of_closure",
        "deal_stage",
        "created_at",
    ),
}


# The fields of a fixed set of values, which a connector may map to the CRM's options.
ENUM_FIELDS = ("region", "lead_source", "deal_stage")


def check_field_mapping(mapping: Mapping[str, Mapping[str, str]]) -> None:
    """``ValueError`` naming what in an operator's ``{domain: {field: name}}`` is not
    one of ours."""
    for group, entries in mapping.items():
        if group not in MAPPED_FIELDS:
            raise ValueError(f"unknown key {group!r} (known: {', '.join(MAPPED_FIELDS)})")
        unknown = sorted(set(entries) - set(MAPPED_FIELDS[CrmDomain(group)]))
        if unknown:
            raise ValueError(f"{group} has no field(s) {', '.join(unknown)}")


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
