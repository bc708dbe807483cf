"""A CRM domain's writes: to the database first (flushed, not committed), then to
the external CRM.

The caller's unit of work commits only what the CRM took: if the CRM takes
nothing, the error rolls everything back; if it takes part of a batch, the rest is
kept and marked pending (``crm_sync_error``), and the error says so. Before a
change, the records are read back from the CRM, so that a change made there since
the last extract is never overwritten."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from telecrm.crm.cleaning import FieldProblem
from telecrm.crm.connector import CrmConnector, CrmDomain, OutgoingRecord, WriteResult
from telecrm.crm.links import ACCOUNT_FIELD, AccountLinks
from telecrm.crm.models import CrmSyncMixin
from telecrm.crm.repository_base import CrmRepository
from telecrm.db import utcnow
from telecrm.errors import AppError, CrmChangesNotExtracted, ExternalServiceError

ModelT = TypeVar("ModelT", bound=CrmSyncMixin)


class WriteThrough(Generic[ModelT]):
    """``links`` is the records' link to their account, for the domains that have
    one (contacts, deals); None for the others."""

    def __init__(
        self,
        session: Session,
        repository: CrmRepository[ModelT],
        connector: CrmConnector | None,
        *,
        domain: CrmDomain,
        key_field: str,
        dto: type[BaseModel],
        content_fields: Sequence[str],
        normalise: Callable[[Mapping[str, Any]], dict[str, Any]],
        links: AccountLinks | None,
    ) -> None:
        self.session = session
        self.repository = repository
        self.connector = connector
        self.domain = domain
        self.key_field = key_field
        self.dto = dto
        self.normalise = normalise
        self.links = links
        # The account of a contact or deal is its company association, not a property.
        self.properties = [name for name in content_fields if links is None or name != links.field]

    def _key(self, obj: ModelT) -> str:
        return str(getattr(obj, self.key_field))

    def add(self, obj: ModelT) -> None:
        self.repository.add(obj)
        self._push([obj], {})

    def change(self, objs: Sequence[ModelT], changes: Mapping[str, Any]) -> None:
        """Apply the same changes to these records, here and in the CRM."""
        if not objs:
            return
        self._check_crm_unchanged(objs)
        previous_accounts: dict[str, int | None] = {}
        if self.links is not None and self.links.field in changes:
            previous_accounts = {self._key(obj): self.links.account_of(obj) for obj in objs}
        for obj in objs:
            for name, value in changes.items():
                setattr(obj, name, value)
        self.session.flush()
        self._push(objs, previous_accounts)

    def delete(self, obj: ModelT) -> None:
        """Delete here, then in the CRM; if the CRM refuses, nothing is deleted."""
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
        stale: list[str] = []
        for crm_id, obj in synced.items():
            ours = self.dto.model_validate(obj, from_attributes=True)
            key = getattr(obj, self.key_field)
            remote = theirs.get(crm_id)
            if remote is None:
                stale.append(f"{key} (deleted there)")
                continue
            values = {**ours.model_dump(include=set(self.properties)), **remote.values}
            # Batch reads carry no associations: the account is ours (and an account's
            # own account_id is the key it was found by).
            values[ACCOUNT_FIELD] = getattr(obj, ACCOUNT_FIELD, None)
            try:
                record = self.dto.model_validate(self.normalise(values))
            except (FieldProblem, ValidationError):
                stale.append(f"{key} (invalid there)")
                continue
            if any(getattr(record, name) != getattr(ours, name) for name in self.properties):
                stale.append(str(key))
        if stale:
            raise CrmChangesNotExtracted(
                f"{self.connector.name} has changes to {self.domain} that are not extracted "
                f"yet ({self.key_field} {', '.join(stale[:10])}"
                f"{' ...' if len(stale) > 10 else ''}): run 'telecrm crm extract --domain "
                f"{self.domain}' first, then repeat the change"
            )

    def _outgoing(
        self, objs: Sequence[ModelT], previous_accounts: Mapping[str, int | None]
    ) -> tuple[list[OutgoingRecord], dict[str, str]]:
        """The records as the connector takes them, and those that cannot be sent."""
        companies = self.links.companies(objs, previous_accounts) if self.links else {}
        outgoing: list[OutgoingRecord] = []
        unsendable: dict[str, str] = {}
        for obj in objs:
            key = self._key(obj)
            account_id = self.links.account_of(obj) if self.links else None
            account_crm_id = companies.get(account_id) if account_id is not None else None
            if account_id is not None and account_crm_id is None:
                unsendable[key] = f"its account {account_id} is not in the CRM yet (push it first)"
                continue
            previous = previous_accounts.get(key)
            ours = self.dto.model_validate(obj, from_attributes=True)
            outgoing.append(
                OutgoingRecord(
                    key,
                    ours.model_dump(mode="json", include=set(self.properties)),
                    account_crm_id,
                    companies.get(previous) if previous is not None else None,
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
            key = self._key(obj)
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
