"""The generic CRM service: seed 003's operations, written once for every CRM domain.

``AccountService``, ``ContactService`` and ``DealService`` name their model, DTO,
repository and business key; this base gives them the seed's operations
(``find_all``, ``find_by_id``, ``find_by_field_name``, ``update_one``,
``update_many``, ``clean_crm_data``, ``load_to_df``, ``save_crm_data_to_json``,
``save_crm_data_to_csv`` and the DTO <-> ORM mappers), the sync from the external
CRM with its change detection, and the API's reads and writes.

A write goes to the database first (flushed, not committed) and then to the CRM.
The caller's unit of work commits only what the CRM took: if the CRM takes
nothing, the error rolls everything back; if it takes part of a batch, the rest is
kept and marked pending (``crm_sync_error``), and the error says so.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import types
import typing
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.engine import RowMapping
from sqlalchemy.orm import Session

from telecrm.accounts.repository import AccountRepository
from telecrm.audit import service as audit
from telecrm.config import Settings
from telecrm.crm.connector import CrmConnector, CrmDomain, CrmRecord, OutgoingRecord, WriteResult
from telecrm.crm.models import CrmSyncMixin
from telecrm.crm.repository_base import CrmRepository
from telecrm.crm.schemas import Content, CrmFields, ListQuery, Page
from telecrm.csvexport import CellKind, Writer
from telecrm.db import utcnow
from telecrm.errors import AppError, Conflict, ExternalServiceError, NotFound, ValidationFailed

if TYPE_CHECKING:
    import pandas as pd

ModelT = TypeVar("ModelT", bound=CrmSyncMixin)
DtoT = TypeVar("DtoT", bound=CrmFields)

# Read models add these to the content fields; they can be sorted on.
BOOKKEEPING_FIELDS = ("id", "created_at", "updated_at", "crm_id", "crm_updated_at")


@dataclass(frozen=True)
class RejectedRow:
    """A record left out, and why. ``row`` is its 1-based position in the input
    (None when the problem was found against the database, after cleaning)."""

    row: int | None
    key: str | None
    crm_id: str | None
    reason: str


@dataclass
class CleanResult(Generic[DtoT]):
    records: list[DtoT]
    rejected: list[RejectedRow]


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


class FieldProblem(ValueError):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field_name = field_name
        self.message = message


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, float) and math.isnan(value)


def _errors(exc: ValidationError) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(part) for part in error["loc"]) or "record", "message": error["msg"]}
        for error in exc.errors()
    ]


def _summary(problems: Sequence[Mapping[str, str]]) -> str:
    return "; ".join(f"{problem['field']}: {problem['message']}" for problem in problems)


def _is_number(annotation: Any) -> bool:
    """Whether a field's type is a number (None aside)."""
    arguments = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    if typing.get_origin(annotation) is typing.Annotated:
        return _is_number(arguments[0])
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return all(_is_number(arg) for arg in arguments)
    return (
        isinstance(annotation, type)
        and issubclass(annotation, int | Decimal | float)
        and not issubclass(annotation, bool | enum.Enum)
    )


def _type_name(annotation: Any) -> str:
    """How a field's type reads in an error message."""
    arguments = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    if typing.get_origin(annotation) is typing.Annotated:
        return _type_name(arguments[0])
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return " or ".join(_type_name(arg) for arg in arguments)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return "one of " + ", ".join(repr(member.value) for member in annotation)
    names = {
        int: "an integer",
        Decimal: "a decimal number",
        dt.date: "a date (YYYY-MM-DD)",
        dt.datetime: "a date and time with its zone (ISO 8601)",
        str: "text",
    }
    for kind, name in names.items():
        if isinstance(annotation, type) and issubclass(annotation, kind):
            return name
    return getattr(annotation, "__name__", "text")


class CrmService(Generic[ModelT, DtoT]):
    domain: ClassVar[CrmDomain]
    noun: ClassVar[str]
    model: ClassVar[type[Any]]
    dto: ClassVar[type[Any]]
    content: ClassVar[type[Content]]
    read_model: ClassVar[type[Any]]
    repository_class: ClassVar[type[CrmRepository[Any]]]
    key_field: ClassVar[str]
    # Contacts and deals point at an account (in HubSpot: an association to a company).
    links_to_account: ClassVar[bool] = False
    # A clearer word than "missing" for a required field, where there is one.
    missing_reasons: ClassVar[dict[str, str]] = {}
    # Fields with a canonical form that ``_normalise_field`` gives them.
    normalised_fields: ClassVar[tuple[str, ...]] = ()
    # Fields holding phone numbers in E.164, whose "+" a CSV export keeps.
    phone_fields: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self, session: Session, settings: Settings, connector: CrmConnector | None = None
    ) -> None:
        self.session = session
        self.settings = settings
        self.connector = connector
        self.repository: CrmRepository[ModelT] = self.repository_class(session)
        self.accounts = AccountRepository(session)

    # --- field catalogue ---------------------------------------------------------

    @classmethod
    def content_fields(cls) -> list[str]:
        return list(cls.content.model_fields)

    @classmethod
    def searchable_fields(cls) -> list[str]:
        return [*cls.content_fields(), "crm_id"]

    @classmethod
    def updatable_fields(cls) -> list[str]:
        return [name for name in cls.content_fields() if name != cls.key_field]

    @classmethod
    def sortable_fields(cls) -> list[str]:
        return [*cls.content_fields(), *BOOKKEEPING_FIELDS]

    @classmethod
    def csv_columns(cls) -> dict[str, CellKind]:
        """The CSV export's columns (the DTO's fields) and what each holds: numbers
        by their type, phone numbers as ``phone_fields`` says, the rest text."""
        return {
            name: CellKind.PHONE
            if name in cls.phone_fields
            else CellKind.NUMBER
            if _is_number(info.annotation)
            else CellKind.TEXT
            for name, info in cls.dto.model_fields.items()
        }

    @classmethod
    def required_fields(cls) -> list[str]:
        return [name for name, info in cls.dto.model_fields.items() if info.is_required()]

    # --- the seed's operations -----------------------------------------------------

    def find_all(self) -> list[DtoT]:
        return [self._crm_dto_from_orm(obj) for obj in self.repository.all()]

    def find_by_id(self, entity_id: Any) -> DtoT:
        """By the business id (``account_id``, ``contact_id``, ``deal_id``): the id
        the CRM, the export files and the other records use."""
        return self._crm_dto_from_orm(self.get(self.cast_value(self.key_field, entity_id)))

    def find_by_field_name(self, field_name: str, value: Any) -> list[DtoT]:
        """Records whose field equals the value (cast to the field's type): one
        filtered query. A blank value finds the records without one."""
        typed = self.cast_value(field_name, value)
        return [
            self._crm_dto_from_orm(obj) for obj in self.repository.find_by_field(field_name, typed)
        ]

    def update_one(self, record: DtoT) -> SyncReport:
        """Insert the record, or update the stored one with its business key."""
        return self.update_many([record])

    def update_many(self, records: Sequence[DtoT]) -> SyncReport:
        """Insert or update in one batch (two statements), writing only the records
        whose content differs from the stored one. Records with a local change not
        yet in the CRM are left alone (``pending``)."""
        report = SyncReport()
        keys = [getattr(record, self.key_field) for record in records]
        if len(set(keys)) != len(keys):
            raise ValidationFailed(f"the batch has {self.key_field}s twice; clean it first")
        records = self._with_known_references(records, report)
        existing = self.repository.rows_by_keys(
            [getattr(record, self.key_field) for record in records]
        )
        now = utcnow()
        stamps = {"created_at": now, "updated_at": now}
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for record in records:
            values = self._row_from_dto(record, with_crm=True)
            row = existing.get(values[self.key_field])
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
                self.model.__tablename__,
                None,
                {"new": report.new, "changed": report.changed},
            )
        return report

    def clean_crm_data(self, rows: Iterable[Mapping[str, Any]]) -> CleanResult[DtoT]:
        """Validate raw rows (our field names) into DTOs. Rows missing a required
        field, rows that do not validate and duplicates of a business key are left
        out and reported with the reason; optional fields that are missing stay None."""
        rejected: list[RejectedRow] = []
        complete = self._handle_missing_values(rows, rejected)
        records = self._remove_duplicates(self._validated(complete, rejected), rejected)
        rejected.sort(key=lambda item: item.row or 0)
        return CleanResult(records, rejected)

    def load_to_df(self) -> pd.DataFrame:
        import pandas as pd  # the seed API's promise; nothing else here needs pandas

        return pd.DataFrame(
            [record.model_dump() for record in self.find_all()], columns=list(self.dto.model_fields)
        )

    def save_crm_data_to_json(self, path: Path, records: Sequence[DtoT] | None = None) -> Path:
        """The records (default: every stored one) as a JSON array."""
        records = self.find_all() if records is None else records
        path.parent.mkdir(parents=True, exist_ok=True)
        adapter: TypeAdapter[list[Any]] = TypeAdapter(list[self.dto])  # type: ignore[name-defined]
        path.write_bytes(adapter.dump_json(list(records), indent=2))
        return path

    def save_crm_data_to_csv(self, path: Path, records: Sequence[DtoT] | None = None) -> Path:
        """The records (default: every stored one) as CSV with a header; no value is
        an empty cell."""
        records = self.find_all() if records is None else records
        path.parent.mkdir(parents=True, exist_ok=True)
        columns = self.csv_columns()
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = Writer(out, columns)
            for record in records:
                values = record.model_dump(mode="json")
                writer.writerow(values[name] for name in columns)
        return path

    def _handle_missing_values(
        self, rows: Iterable[Mapping[str, Any]], rejected: list[RejectedRow]
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        required = self.required_fields()
        for number, row in enumerate(rows, start=1):
            values = {name: None if _is_missing(value) else value for name, value in row.items()}
            missing = [name for name in required if values.get(name) is None]
            if missing:
                reasons = [self.missing_reasons.get(name, name) for name in missing]
                rejected.append(self._rejected(number, values, "missing " + ", ".join(reasons)))
                continue
            yield number, values

    def _validated(
        self, rows: Iterable[tuple[int, dict[str, Any]]], rejected: list[RejectedRow]
    ) -> Iterator[tuple[int, DtoT]]:
        for number, values in rows:
            try:
                yield number, self.dto.model_validate(self._normalise(values))
            except FieldProblem as exc:
                rejected.append(self._rejected(number, values, str(exc)))
            except ValidationError as exc:
                rejected.append(self._rejected(number, values, _summary(_errors(exc))))

    def _remove_duplicates(
        self, rows: Iterable[tuple[int, DtoT]], rejected: list[RejectedRow]
    ) -> list[DtoT]:
        """One record per business key: the one the CRM updated last (on a tie, the
        later row)."""
        oldest = dt.datetime.min.replace(tzinfo=dt.UTC)
        kept: dict[Any, tuple[int, DtoT]] = {}
        for number, record in rows:
            key = getattr(record, self.key_field)
            if key not in kept:
                kept[key] = (number, record)
                continue
            newer, older = (number, record), kept[key]
            if (record.crm_updated_at or oldest) < (older[1].crm_updated_at or oldest):
                newer, older = older, newer
            kept[key] = newer
            rejected.append(
                RejectedRow(
                    older[0],
                    str(key),
                    older[1].crm_id,
                    f"duplicate {self.key_field} {key}: row {newer[0]} is kept "
                    "(the one updated last)",
                )
            )
        return [record for _, record in kept.values()]

    def _crm_dto_from_orm(self, obj: ModelT) -> DtoT:
        dto: DtoT = self.dto.model_validate(obj, from_attributes=True)
        return dto

    def _orm_from_crm_dto(self, record: DtoT) -> ModelT:
        obj: ModelT = self.model(**self._row_from_dto(record, with_crm=True))
        return obj

    # --- helpers of the seed's operations ------------------------------------------

    def _rejected(self, number: int, values: Mapping[str, Any], reason: str) -> RejectedRow:
        key = values.get(self.key_field)
        crm_id = values.get("crm_id")
        return RejectedRow(
            number,
            None if key is None else str(key),
            None if crm_id is None else str(crm_id),
            reason,
        )

    def _row_from_dto(self, record: DtoT, with_crm: bool) -> dict[str, Any]:
        """The record's column values: its fields (a DTO has exactly the content
        fields and the CRM fields), the CRM fields only ``with_crm``."""
        values = dict(record.__dict__)
        if not with_crm:
            del values["crm_id"], values["crm_updated_at"]
        return values

    @staticmethod
    def _same(row: RowMapping, values: Mapping[str, Any]) -> bool:
        """Equal content (normalised: enums, exact decimals, instants in UTC); the
        CRM's own timestamp alone does not make a change."""
        return all(row[name] == value for name, value in values.items() if name != "crm_updated_at")

    def _with_known_references(self, records: Sequence[DtoT], report: SyncReport) -> list[DtoT]:
        """Leave out records whose CRM id is another record's here, or whose account
        does not exist; the database would refuse the whole batch for either."""
        owners = self.repository.keys_by_crm_ids(
            [record.crm_id for record in records if record.crm_id is not None]
        )
        accounts: set[int] = set()
        if self.links_to_account:
            linked = [getattr(record, "account_id", None) for record in records]
            accounts = self.accounts.existing_account_ids([i for i in linked if i is not None])
        kept: list[DtoT] = []
        for record in records:
            key = getattr(record, self.key_field)
            owner = owners.get(record.crm_id) if record.crm_id is not None else None
            account_id = getattr(record, "account_id", None) if self.links_to_account else None
            if owner is not None and owner != key:
                reason = f"crm_id {record.crm_id} belongs to {self.key_field} {owner} here"
            elif account_id is not None and account_id not in accounts:
                reason = f"no account with account_id {account_id}"
            else:
                kept.append(record)
                continue
            report.rejected.append(RejectedRow(None, str(key), record.crm_id, reason))
        return kept

    def _normalise(self, values: Mapping[str, Any]) -> dict[str, Any]:
        normalised = {name: None if _is_missing(value) else value for name, value in values.items()}
        for name in self.normalised_fields:
            if normalised.get(name) is not None:
                normalised[name] = self._normalise_field(name, normalised[name])
        return normalised

    def _normalise_field(self, field_name: str, value: Any) -> Any:
        """A domain's canonical form of a value of one of its ``normalised_fields``
        (contacts: phones in E.164); raises ``FieldProblem`` for a value that has none."""
        return value

    # --- typed values from text (CLI, API filters) ---------------------------------

    def cast_value(self, field_name: str, value: Any) -> Any:
        """The value in the field's type, or a clear error. Blank text is no value."""
        if field_name not in self.searchable_fields():
            raise ValidationFailed(
                f"{self.domain} has no field {field_name!r} "
                f"(fields: {', '.join(self.searchable_fields())})"
            )
        if _is_missing(value):
            return None
        if isinstance(value, str):
            value = value.strip()
        info = self.dto.model_fields[field_name]
        try:
            # The field's own validation (type, constraints, config) on an empty record.
            checked = self.dto.__pydantic_validator__.validate_assignment(
                self.dto.model_construct(), field_name, self._normalise_field(field_name, value)
            )
            return getattr(checked, field_name)
        except FieldProblem as exc:
            raise ValidationFailed(f"{value!r} is not a valid {field_name}: {exc.message}") from exc
        except ValidationError as exc:
            reason = exc.errors()[0]["msg"]
            raise ValidationFailed(
                f"{value!r} is not a valid {self.domain}.{field_name} "
                f"({field_name} is {_type_name(info.annotation)}): {reason}"
            ) from exc

    # --- reads and writes of the API and the CLI -----------------------------------

    def list_page(self, query: ListQuery) -> Page[Any]:
        descending = query.sort.startswith("-")
        sort_field = query.sort.removeprefix("-")
        if sort_field not in self.sortable_fields():
            raise ValidationFailed(
                f"cannot sort {self.domain} by {sort_field!r} "
                f"(fields: {', '.join(self.sortable_fields())})",
                detail=[{"field": "sort", "message": f"unknown field {sort_field!r}"}],
            )
        filters = {
            name: self._normalised_filter(name, value) for name, value in query.filters().items()
        }
        items, total = self.repository.page(
            filters, sort_field, descending, query.offset, query.limit
        )
        return Page[Any](
            items=[self.read_model.model_validate(item) for item in items],
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

    def get(self, key: Any) -> ModelT:
        obj = self.repository.get_by_key(key)
        if obj is None:
            raise NotFound(f"no {self.noun} with {self.key_field} {key}")
        return obj

    def create(self, data: Content) -> ModelT:
        record = self._validate(self._creation_defaults(data.model_dump()))
        key = getattr(record, self.key_field)
        if self.repository.get_by_key(key) is not None:
            raise Conflict(f"{self.key_field} {key} already exists")
        self._check_account(record)
        obj = self._orm_from_crm_dto(record)
        self.repository.add(obj)
        self._push([obj], {})
        return obj

    def update(self, key: Any, data: Content) -> ModelT:
        obj = self.get(key)
        stored = self._crm_dto_from_orm(obj).model_dump(include=set(self.content_fields()))
        record = self._validate({**stored, **data.model_dump(exclude_unset=True)})
        changes = {
            name: getattr(record, name)
            for name in self.updatable_fields()
            if getattr(record, name) != stored[name]
        }
        if changes:
            self._check_account(record)
            self._change([obj], changes)
        return obj

    def update_field(
        self, key_field: str, key_value: str, field_name: str, value: str
    ) -> UpdateOutcome:
        """Seed 003's ``update_domain_value``: set ``field_name`` of every record whose
        ``key_field`` equals ``key_value``, both cast from text to the fields' types,
        in the database and in the CRM, as one batch."""
        if field_name not in self.updatable_fields():
            raise ValidationFailed(
                f"{self.domain}.{field_name} cannot be updated "
                f"(updatable: {', '.join(self.updatable_fields())})"
            )
        typed_key = self.cast_value(key_field, key_value)
        typed_value = self.cast_value(field_name, value)
        if typed_value is None and self.dto.model_fields[field_name].is_required():
            raise ValidationFailed(f"{self.domain}.{field_name} needs a value")
        matched = self.repository.find_by_field(key_field, typed_key)
        if not matched:
            raise NotFound(f"no {self.domain} with {key_field} = {key_value}")
        if field_name == "account_id" and typed_value is not None:
            self._check_account_id(typed_value)
        to_change = [obj for obj in matched if getattr(obj, field_name) != typed_value]
        self._change(to_change, {field_name: typed_value})
        return UpdateOutcome(
            len(matched), len(to_change), self.connector.name if self.connector else None
        )

    def delete(self, key: Any) -> None:
        """Delete here, then in the CRM; if the CRM refuses, nothing is deleted."""
        obj = self.get(key)
        self._check_deletable(obj)
        crm_id = obj.crm_id
        self.repository.delete(obj)
        if self.connector is not None and crm_id is not None:
            self.connector.archive(self.domain, [crm_id])

    def push_pending(self) -> int:
        """Write the records marked pending to the CRM again; how many there were."""
        if self.connector is None:
            raise AppError("no external CRM is configured (set TELECRM_HUBSPOT_TOKEN)")
        pending = self.repository.pending()
        self._push(pending, {})
        return len(pending)

    def sync_from_crm(self, records: Iterable[CrmRecord]) -> tuple[SyncReport, list[DtoT]]:
        """Clean the CRM's records and write what changed: the report, and the clean
        records (what the export files hold)."""
        companies = self.accounts.account_ids_by_crm_id() if self.links_to_account else {}
        cleaned = self.clean_crm_data(self._row_from_crm(record, companies) for record in records)
        report = self.update_many(cleaned.records)
        report.rejected = sorted(
            [*cleaned.rejected, *report.rejected], key=lambda item: item.row or 0
        )
        return report, cleaned.records

    # --- helpers of the writes ------------------------------------------------------

    def _creation_defaults(self, values: dict[str, Any]) -> dict[str, Any]:
        return values

    def _check_deletable(self, obj: ModelT) -> None:
        """Raise ``Conflict`` when other records still need this one."""

    def _validate(self, values: Mapping[str, Any]) -> DtoT:
        try:
            record: DtoT = self.dto.model_validate(self._normalise(values))
        except FieldProblem as exc:
            raise ValidationFailed(
                f"invalid {exc}", detail=[{"field": exc.field_name, "message": exc.message}]
            ) from exc
        except ValidationError as exc:
            problems = _errors(exc)
            raise ValidationFailed(f"invalid {self.noun}: {_summary(problems)}", problems) from exc
        return record

    def _check_account(self, record: DtoT) -> None:
        account_id = getattr(record, "account_id", None) if self.links_to_account else None
        if account_id is not None:
            self._check_account_id(account_id)

    def _check_account_id(self, account_id: int) -> None:
        if not self.accounts.existing_account_ids([account_id]):
            raise ValidationFailed(
                f"no account with account_id {account_id}",
                detail=[{"field": "account_id", "message": "no such account"}],
            )

    def _row_from_crm(self, record: CrmRecord, companies: Mapping[str, int]) -> dict[str, Any]:
        row = {**record.values, "crm_id": record.crm_id, "crm_updated_at": record.updated_at}
        if self.links_to_account:
            row["account_id"] = companies.get(record.account_crm_id or "")
        return row

    def _change(self, objs: Sequence[ModelT], changes: Mapping[str, Any]) -> None:
        """Apply the same changes to these records, here and in the CRM."""
        if not objs:
            return
        self._check_crm_unchanged(objs)
        previous_accounts = {
            str(getattr(obj, self.key_field)): getattr(obj, "account_id")  # noqa: B009
            for obj in objs
            if self.links_to_account and "account_id" in changes
        }
        for obj in objs:
            for name, value in changes.items():
                setattr(obj, name, value)
        self.session.flush()
        self._push(objs, previous_accounts)

    def _check_crm_unchanged(self, objs: Sequence[ModelT]) -> None:
        """Refuse to overwrite what someone changed in the CRM since the last
        extract: batch-read the records there and compare them with ours."""
        if self.connector is None:
            return
        synced = {
            obj.crm_id: obj for obj in objs if obj.crm_id is not None and obj.crm_sync_error is None
        }
        if not synced:
            return
        theirs = self.connector.read(self.domain, list(synced))
        # Batch reads carry no associations: the account link is not compared.
        compared = [
            name
            for name in self.content_fields()
            if not (self.links_to_account and name == "account_id")
        ]
        stale: list[str] = []
        for crm_id, obj in synced.items():
            ours = self._crm_dto_from_orm(obj)
            key = getattr(obj, self.key_field)
            remote = theirs.get(crm_id)
            if remote is None:
                stale.append(f"{key} (deleted there)")
                continue
            values = {**ours.model_dump(include=set(compared)), **remote.values}
            try:
                record = self.dto.model_validate(
                    self._normalise({**values, "account_id": getattr(obj, "account_id", None)})
                )
            except (FieldProblem, ValidationError):
                stale.append(f"{key} (invalid there)")
                continue
            if any(getattr(record, name) != getattr(ours, name) for name in compared):
                stale.append(str(key))
        if stale:
            assert self.connector is not None
            raise Conflict(
                f"{self.connector.name} has changes to {self.domain} that are not extracted "
                f"yet ({self.key_field} {', '.join(stale[:10])}"
                f"{' ...' if len(stale) > 10 else ''}): run 'telecrm crm extract --domain "
                f"{self.domain}' first, then repeat the change"
            )

    def _outgoing(
        self, objs: Sequence[ModelT], previous_accounts: Mapping[str, int | None]
    ) -> tuple[list[OutgoingRecord], dict[str, str]]:
        """The records as the connector takes them, and those that cannot be sent."""
        crm_ids: dict[int, str | None] = {}
        if self.links_to_account:
            account_ids = {getattr(obj, "account_id") for obj in objs}  # noqa: B009
            crm_ids = self.accounts.crm_ids_by_account_id(
                [i for i in {*account_ids, *previous_accounts.values()} if i is not None]
            )
        # The account of a contact or deal is its company association, not a property.
        properties = [
            name
            for name in self.content_fields()
            if not (self.links_to_account and name == "account_id")
        ]
        outgoing: list[OutgoingRecord] = []
        unsendable: dict[str, str] = {}
        for obj in objs:
            key = str(getattr(obj, self.key_field))
            account_id = getattr(obj, "account_id", None) if self.links_to_account else None
            account_crm_id = crm_ids.get(account_id) if account_id is not None else None
            if account_id is not None and account_crm_id is None:
                unsendable[key] = f"its account {account_id} is not in the CRM yet (push it first)"
                continue
            previous = previous_accounts.get(key)
            outgoing.append(
                OutgoingRecord(
                    key,
                    self._crm_dto_from_orm(obj).model_dump(mode="json", include=set(properties)),
                    account_crm_id,
                    crm_ids.get(previous) if previous is not None else None,
                )
            )
        return outgoing, unsendable

    def _push(self, objs: Sequence[ModelT], previous_accounts: Mapping[str, int | None]) -> None:
        """Write these (flushed) records to the CRM. What it takes gets its CRM id;
        what it refuses is marked pending, and an error tells the caller: the whole
        change rolls back when the CRM took none of it."""
        if self.connector is None or not objs:
            return
        outgoing, unsendable = self._outgoing(objs, previous_accounts)
        result = self.connector.upsert(self.domain, outgoing) if outgoing else WriteResult()
        result.failed.update(unsendable)
        stamp = f"{utcnow():%Y-%m-%d %H:%M:%S} UTC"
        for obj in objs:
            key = str(getattr(obj, self.key_field))
            written = result.written.get(key)
            if written is not None:
                obj.crm_id = written.crm_id
                obj.crm_updated_at = written.updated_at
                obj.crm_sync_error = None
            else:
                obj.crm_sync_error = f"{stamp}: {result.failed.get(key, 'not written')}"
        self.session.flush()
        if not result.failed:
            return
        name = self.connector.name
        first = next(iter(result.failed.values()))
        if not result.written:
            raise ExternalServiceError(
                f"{name} did not take the change to {len(objs)} {self.domain}, so nothing was "
                f"saved here either: {first}"
            )
        raise ExternalServiceError(
            f"{name} took {len(result.written)} of {len(objs)} {self.domain}; the other "
            f"{len(result.failed)} are saved here and marked pending ({first}); "
            f"'telecrm crm push --domain {self.domain}' writes them again",
            detail=[
                {"record": key, "message": f"pending: {reason}"}
                for key, reason in sorted(result.failed.items())[:100]
            ],
            keep_changes=True,
        )
