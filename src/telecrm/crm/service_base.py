"""The generic CRM service: seed 003's operations, written once for every CRM domain.

A CRM domain is data, not a subclass: its ``CrmDomainSpec`` (``accounts.service.
ACCOUNTS``, ``CONTACTS``, ``DEALS``) names its model, DTO, repository and business
key, and hands over its few rules as module functions (a contact's phone in E.164,
an account that other records keep, a deal's creation time). ``CrmService`` is the
one class, never subclassed: seed 003's object (``AccountService(session,
settings).find_all()``) over a spec, with the seed's operations (``find_all``,
``find_by_id``, ``find_by_field_name``, ``update_one``, ``update_many``,
``clean_crm_data``, ``load_to_df``, ``save_crm_data_to_json``,
``save_crm_data_to_csv`` and the DTO <-> ORM mappers), the sync from the external CRM
with its change detection, and the API's reads and writes. The work itself is done by
its collaborators: ``cleaning`` (pure functions over rows), ``casting`` (typed values
from text), ``export`` (the files) and ``WriteThrough`` (the database, then the CRM),
with the account link of contacts and deals as an ``AccountLinks``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy.engine import RowMapping
from sqlalchemy.orm import Session

from telecrm.audit import service as audit
from telecrm.config import Settings
from telecrm.crm import casting, cleaning, export
from telecrm.crm.cleaning import CleanResult, FieldProblem, RejectedRow
from telecrm.crm.connector import CrmConnector, CrmDomain, CrmRecord
from telecrm.crm.links import AccountLinks
from telecrm.crm.repository_base import CrmRepository
from telecrm.crm.schemas import Content, ListQuery, Page
from telecrm.crm.write_through import WriteThrough
from telecrm.csvexport import CellKind
from telecrm.db import utcnow
from telecrm.errors import CrmRecordExists, CrmRecordNotFound, ValidationFailed

if TYPE_CHECKING:
    import pandas as pd

# Read models add these to the content fields; they can be sorted on.
BOOKKEEPING_FIELDS = ("id", "created_at", "updated_at", "crm_id", "crm_updated_at")


@dataclass
class SyncReport:
    """What a batch write did. ``pending``: records with a local change that is not
    in the CRM yet, left as they are."""

    new: int = 0
    changed: int = 0
    unchanged: int = 0
    pending: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)


@dataclass(frozen=True)
class UpdateOutcome:
    matched: int
    changed: int
    crm: str | None  # the CRM written to; None when telecrm runs without one


def _deletable(session: Session, obj: Any) -> None:
    """Nothing keeps a record of this domain."""


def _as_given(values: dict[str, Any]) -> dict[str, Any]:
    return values


@dataclass(frozen=True)
class CrmDomainSpec:
    """One CRM domain, as data: everything the generic operations need to serve it.

    ``links``: how the records point at their account (contacts, deals), built for a
    session. ``missing_reasons``: a clearer word than "missing" for a required field.
    ``normalisers``: per field with a canonical form, the function giving it (from
    the settings and the value; ``FieldProblem`` for a value that has none).
    ``phone_fields``: phone numbers in E.164, whose "+" a CSV export keeps.
    ``check_deletable``: raises a ``Conflict`` when other records still need the one
    to delete. ``creation_defaults``: the values of a new record, completed."""

    domain: CrmDomain
    noun: str
    model: type[Any]
    dto: type[Any]
    content: type[Content]
    read_model: type[Any]
    repository: Callable[[Session], CrmRepository[Any]]
    key_field: str
    links: Callable[[Session], AccountLinks] | None = None
    missing_reasons: Mapping[str, str] = field(default_factory=dict)
    normalisers: Mapping[str, Callable[[Settings, Any], Any]] = field(default_factory=dict)
    phone_fields: tuple[str, ...] = ()
    check_deletable: Callable[[Session, Any], None] = _deletable
    creation_defaults: Callable[[dict[str, Any]], dict[str, Any]] = _as_given

    def content_fields(self) -> list[str]:
        return list(self.content.model_fields)

    def searchable_fields(self) -> list[str]:
        return [*self.content_fields(), "crm_id"]

    def updatable_fields(self) -> list[str]:
        return [name for name in self.content_fields() if name != self.key_field]

    def sortable_fields(self) -> list[str]:
        return [*self.content_fields(), *BOOKKEEPING_FIELDS]

    def csv_columns(self) -> dict[str, CellKind]:
        return export.csv_columns(self.dto, self.phone_fields)

    def required_fields(self) -> list[str]:
        return cleaning.required_fields(self.dto)


class CrmService:
    """Seed 003's service object of one CRM domain (its ``spec``), for one session."""

    def __init__(
        self,
        spec: CrmDomainSpec,
        session: Session,
        settings: Settings,
        connector: CrmConnector | None = None,
    ) -> None:
        self.spec = spec
        self.domain = spec.domain
        self.session = session
        self.settings = settings
        self.connector = connector
        self.links = spec.links(session) if spec.links else None
        self.repository: CrmRepository[Any] = spec.repository(session)
        self.writes = WriteThrough(
            session,
            self.repository,
            connector,
            domain=spec.domain,
            key_field=spec.key_field,
            dto=spec.dto,
            content_fields=spec.content_fields(),
            normalise=self._normalise,
            links=self.links,
        )

    # --- the seed's operations -----------------------------------------------------

    def find_all(self) -> list[Any]:
        return [self._crm_dto_from_orm(obj) for obj in self.repository.all()]

    def find_by_id(self, entity_id: Any) -> Any:
        """By the business id (``account_id``, ``contact_id``, ``deal_id``): the id
        the CRM, the export files and the other records use."""
        return self._crm_dto_from_orm(self.get(self.cast_value(self.spec.key_field, entity_id)))

    def find_by_field_name(self, field_name: str, value: Any) -> list[Any]:
        """Records whose field equals the value (cast to the field's type): one
        filtered query. A blank value finds the records without one."""
        typed = self.cast_value(field_name, value)
        return [
            self._crm_dto_from_orm(obj) for obj in self.repository.find_by_field(field_name, typed)
        ]

    def update_one(self, record: Any) -> SyncReport:
        """Insert the record, or update the stored one with its business key."""
        return self.update_many([record])

    def update_many(self, records: Sequence[Any]) -> SyncReport:
        """Insert or update in one batch (two statements), writing only the records
        whose content differs from the stored one. Records with a local change not
        yet in the CRM are left alone (``pending``)."""
        report = SyncReport()
        keys = [getattr(record, self.spec.key_field) for record in records]
        if len(set(keys)) != len(keys):
            raise ValidationFailed(f"the batch has {self.spec.key_field}s twice; clean it first")
        records = self._with_known_references(records, report)
        existing = self.repository.rows_by_keys(
            [getattr(record, self.spec.key_field) for record in records]
        )
        now = utcnow()
        stamps = {"created_at": now, "updated_at": now}
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for record in records:
            values = dict(record.__dict__)  # a DTO has exactly the columns' fields
            row = existing.get(values[self.spec.key_field])
            if record.crm_id is None:
                # Not from the CRM: what the row knows of the CRM stays as it is.
                del values["crm_id"], values["crm_updated_at"]
            if row is None:
                inserts.append({**stamps, "crm_id": None, "crm_updated_at": None, **values})
                report.new += 1
            elif row["crm_sync_error"] is not None:
                report.pending += 1
            elif self._same(row, values):
                report.unchanged += 1
            else:
                updates.append({**values, "id": row["id"], "updated_at": now})
                report.changed += 1
        self.repository.insert_many(inserts)
        self.repository.update_many(updates)
        if inserts or updates:
            audit.record(
                self.session,
                "sync",
                self.spec.model.__tablename__,
                None,
                {"new": report.new, "changed": report.changed},
            )
        return report

    def clean_crm_data(self, rows: Iterable[Mapping[str, Any]]) -> CleanResult[Any]:
        """Validate raw rows (our field names) into DTOs. Rows missing a required
        field, rows that do not validate and duplicates of a business key are left
        out and reported with the reason; optional fields that are missing stay None."""
        return cleaning.clean_rows(
            rows, self.spec.dto, self.spec.key_field, self._normalise, self.spec.missing_reasons
        )

    def load_to_df(self) -> pd.DataFrame:
        return export.data_frame(self.spec.dto, self.find_all())

    def save_crm_data_to_json(self, path: Path, records: Sequence[Any] | None = None) -> Path:
        """The records (default: every stored one) as a JSON array."""
        return export.save_json(
            path, self.spec.dto, self.find_all() if records is None else records
        )

    def save_crm_data_to_csv(self, path: Path, records: Sequence[Any] | None = None) -> Path:
        """The records (default: every stored one) as CSV with a header; no value is
        an empty cell."""
        records = self.find_all() if records is None else records
        return export.save_csv(path, self.spec.dto, records, self.spec.phone_fields)

    def _crm_dto_from_orm(self, obj: Any) -> Any:
        dto: Any = self.spec.dto.model_validate(obj, from_attributes=True)
        return dto

    def _orm_from_crm_dto(self, record: Any) -> Any:
        obj: Any = self.spec.model(**record.__dict__)
        return obj

    # --- helpers of the seed's operations ------------------------------------------

    @staticmethod
    def _same(row: RowMapping, values: Mapping[str, Any]) -> bool:
        """Equal content (normalised: enums, exact decimals, instants in UTC); the
        CRM's own timestamp alone does not make a change."""
        return all(row[name] == value for name, value in values.items() if name != "crm_updated_at")

    def _with_known_references(self, records: Sequence[Any], report: SyncReport) -> list[Any]:
        """Leave out records whose CRM id is another record's here, or whose account
        does not exist; the database would refuse the whole batch for either."""
        owners = self.repository.keys_by_crm_ids(
            [record.crm_id for record in records if record.crm_id is not None]
        )
        accounts = self.links.existing(records) if self.links else set()
        kept: list[Any] = []
        for record in records:
            key = getattr(record, self.spec.key_field)
            owner = owners.get(record.crm_id) if record.crm_id is not None else None
            account_id = self.links.account_of(record) if self.links else None
            if owner is not None and owner != key:
                reason = f"crm_id {record.crm_id} belongs to {self.spec.key_field} {owner} here"
            elif account_id is not None and account_id not in accounts:
                reason = f"no account with account_id {account_id}"
            else:
                kept.append(record)
                continue
            report.rejected.append(RejectedRow(None, str(key), record.crm_id, reason))
        return kept

    def _normalise(self, values: Mapping[str, Any]) -> dict[str, Any]:
        normalised = cleaning.without_blanks(values)
        for name in self.spec.normalisers:
            if normalised.get(name) is not None:
                normalised[name] = self._normalise_field(name, normalised[name])
        return normalised

    def _normalise_field(self, field_name: str, value: Any) -> Any:
        """The domain's canonical form of a value (contacts: phones in E.164); raises
        ``FieldProblem`` for a value that has none."""
        normaliser = self.spec.normalisers.get(field_name)
        return value if normaliser is None else normaliser(self.settings, value)

    def cast_value(self, field_name: str, value: Any) -> Any:
        """The value in the field's type, or a clear error. Blank text is no value."""
        return casting.cast_value(
            self.spec.dto,
            self.spec.domain,
            self.spec.searchable_fields(),
            field_name,
            value,
            self._normalise_field,
        )

    # --- reads and writes of the API and the CLI -----------------------------------

    def list_page(self, query: ListQuery) -> Page[Any]:
        descending = query.sort.startswith("-")
        sort_field = query.sort.removeprefix("-")
        if sort_field not in self.spec.sortable_fields():
            raise ValidationFailed(
                f"cannot sort {self.spec.domain} by {sort_field!r} "
                f"(fields: {', '.join(self.spec.sortable_fields())})",
                detail=[{"field": "sort", "message": f"unknown field {sort_field!r}"}],
            )
        filters = {
            name: self._normalised_filter(name, value) for name, value in query.filters().items()
        }
        items, total = self.repository.page(
            filters, sort_field, descending, query.offset, query.limit
        )
        return Page[Any](
            items=[self.spec.read_model.model_validate(item) for item in items],
            total=total,
            offset=query.offset,
            limit=query.limit,
        )

    def _normalised_filter(self, field_name: str, value: Any) -> Any:
        try:
            normalised = self._normalise_field(field_name, value)
            self.repository.check_filter(field_name, normalised)
        except FieldProblem as exc:
            raise ValidationFailed(
                f"invalid filter {exc}", detail=[{"field": field_name, "message": exc.message}]
            ) from exc
        except ValueError as exc:
            raise ValidationFailed(
                f"invalid filter {field_name}: {exc}",
                detail=[{"field": field_name, "message": str(exc)}],
            ) from exc
        return normalised

    def get(self, key: Any) -> Any:
        obj = self.repository.get_by_key(key)
        if obj is None:
            raise CrmRecordNotFound(f"no {self.spec.noun} with {self.spec.key_field} {key}")
        return obj

    def create(self, data: Content) -> Any:
        record = self._validate(self.spec.creation_defaults(data.model_dump()))
        key = getattr(record, self.spec.key_field)
        if self.repository.get_by_key(key) is not None:
            raise CrmRecordExists(f"{self.spec.key_field} {key} already exists")
        if self.links:
            self.links.check(self.links.account_of(record))
        obj = self._orm_from_crm_dto(record)
        self.writes.add(obj)
        return obj

    def update(self, key: Any, data: Content) -> Any:
        obj = self.get(key)
        stored = self._crm_dto_from_orm(obj).model_dump(include=set(self.spec.content_fields()))
        record = self._validate({**stored, **data.model_dump(exclude_unset=True)})
        changes = {
            name: getattr(record, name)
            for name in self.spec.updatable_fields()
            if getattr(record, name) != stored[name]
        }
        if changes:
            if self.links:
                self.links.check(self.links.account_of(record))
            self.writes.change([obj], changes)
        return obj

    def update_field(
        self, key_field: str, key_value: str, field_name: str, value: str
    ) -> UpdateOutcome:
        """Seed 003's ``update_domain_value``: set ``field_name`` of every record whose
        ``key_field`` equals ``key_value``, both cast from text to the fields' types,
        in the database and in the CRM, as one batch."""
        if field_name not in self.spec.updatable_fields():
            raise ValidationFailed(
                f"{self.spec.domain}.{field_name} cannot be updated "
                f"(updatable: {', '.join(self.spec.updatable_fields())})"
            )
        typed_key = self.cast_value(key_field, key_value)
        typed_value = self.cast_value(field_name, value)
        if typed_value is None and self.spec.dto.model_fields[field_name].is_required():
            raise ValidationFailed(f"{self.spec.domain}.{field_name} needs a value")
        matched = self.repository.find_by_field(key_field, typed_key)
        if not matched:
            raise CrmRecordNotFound(f"no {self.spec.domain} with {key_field} = {key_value}")
        if self.links and field_name == self.links.field:
            self.links.check(typed_value)
        to_change = [obj for obj in matched if getattr(obj, field_name) != typed_value]
        self.writes.change(to_change, {field_name: typed_value})
        return UpdateOutcome(
            len(matched), len(to_change), self.connector.name if self.connector else None
        )

    def delete(self, key: Any) -> None:
        """Delete here, then in the CRM; if the CRM refuses, nothing is deleted."""
        obj = self.get(key)
        self.spec.check_deletable(self.session, obj)
        self.writes.delete(obj)

    def push_pending(self) -> int:
        """Write the records marked pending to the CRM again; how many there were."""
        return self.writes.push_pending()

    def sync_from_crm(self, records: Iterable[CrmRecord]) -> tuple[SyncReport, list[Any]]:
        """Clean the CRM's records and write what changed: the report, and the clean
        records (what the export files hold)."""
        companies = self.links.accounts_by_company() if self.links else {}
        cleaned = self.clean_crm_data(self._row_from_crm(record, companies) for record in records)
        report = self.update_many(cleaned.records)
        report.rejected = sorted(
            [*cleaned.rejected, *report.rejected], key=lambda item: item.row or 0
        )
        return report, cleaned.records

    # --- helpers of the writes ------------------------------------------------------

    def _validate(self, values: Mapping[str, Any]) -> Any:
        try:
            record: Any = self.spec.dto.model_validate(self._normalise(values))
        except FieldProblem as exc:
            raise ValidationFailed(
                f"invalid {exc}", detail=[{"field": exc.field_name, "message": exc.message}]
            ) from exc
        except ValidationError as exc:
            problems = cleaning.errors(exc)
            raise ValidationFailed(
                f"invalid {self.spec.noun}: {cleaning.summary(problems)}", problems
            ) from exc
        return record

    def _row_from_crm(self, record: CrmRecord, companies: Mapping[str, int]) -> dict[str, Any]:
        row = {**record.values, "crm_id": record.crm_id, "crm_updated_at": record.updated_at}
        if self.links:
            row[self.links.field] = companies.get(record.account_crm_id or "")
        return row
