"""HubSpot as telecrm's external CRM: the connector that maps the CRM domains
(accounts as companies, contacts, deals) onto ``HubSpotClient``, with the HubSpot
property names and enum values of each field. The defaults are here; an operator's
``TELECRM_HUBSPOT_PROPERTIES`` and ``TELECRM_HUBSPOT_ENUM_VALUES`` are merged over
them."""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from telecrm.accounts.models import Region
from telecrm.config import Settings
from telecrm.contacts.models import LeadSource
from telecrm.crm.connector import (
    CrmConnector,
    CrmDomain,
    CrmRecord,
    OutgoingRecord,
    WriteResult,
    WrittenRecord,
    check_field_mapping,
)
from telecrm.crm.hubspot_client import HubSpotClient, batches, parse_time
from telecrm.deals.models import DealStage
from telecrm.errors import AppError, ExternalServiceError

OBJECT_TYPES = {
    CrmDomain.ACCOUNTS: "companies",
    CrmDomain.CONTACTS: "contacts",
    CrmDomain.DEALS: "deals",
}
# The primary company of a contact or deal (HubSpot's v3 association type names).
COMPANY_ASSOCIATIONS = {
    CrmDomain.CONTACTS: "contact_to_company",
    CrmDomain.DEALS: "deal_to_company",
}
KEY_FIELDS = {
    CrmDomain.ACCOUNTS: "account_id",
    CrmDomain.CONTACTS: "contact_id",
    CrmDomain.DEALS: "deal_id",
}
ENUM_TYPES: dict[str, type[enum.StrEnum]] = {
    "region": Region,
    "lead_source": LeadSource,
    "deal_stage": DealStage,
}

# Our CRM field -> HubSpot property. Standard properties where HubSpot has one that
# holds the same thing; custom properties (created once in HubSpot) for the rest. The
# business keys (account_id, contact_id, deal_id) must be unique-value properties:
# batch upserts find records by them.
DEFAULT_PROPERTIES: dict[CrmDomain, dict[str, str]] = {
    CrmDomain.ACCOUNTS: {
        "account_id": "account_id",
        "account_name": "name",
        "industry": "industry",
        "account_value": "annualrevenue",
        "region": "region",
    },
    CrmDomain.CONTACTS: {
        "contact_id": "contact_id",
        "first_name": "firstname",
        "last_name": "lastname",
        "email": "email",
        "phone": "phone",
        "job_title": "jobtitle",
        "lead_source": "lead_source",
        "last_contact_date": "last_contact_date",
    },
    CrmDomain.DEALS: {
        "deal_id": "deal_id",
        "deal_name": "dealname",
        "deal_size": "amount",
        "probability_of_closure": "probability_of_closure",
        "deal_stage": "dealstage",
        "created_at": "createdate",
    },
}
# Our enum value -> HubSpot option value, where they differ (deal stages are the
# stage ids of HubSpot's default sales pipeline).
DEFAULT_ENUM_VALUES: dict[str, dict[str, str]] = {
    "deal_stage": {
        "Prospecting": "appointmentscheduled",
        "Negotiation": "contractsent",
        "Closed-Won": "closedwon",
        "Closed-Lost": "closedlost",
    },
}


@dataclass(frozen=True)
class _Mapping:
    """One domain's fields as HubSpot properties, and its enum values."""

    domain: CrmDomain
    object_type: str
    key_field: str
    properties: dict[str, str]
    to_hubspot_values: dict[str, dict[str, str]]
    from_hubspot_values: dict[str, dict[str, str]]

    @property
    def key_property(self) -> str:
        return self.properties[self.key_field]

    def to_properties(self, values: Mapping[str, Any]) -> dict[str, str]:
        """Plain values to HubSpot's strings; an empty string clears a property."""
        properties: dict[str, str] = {}
        for name, value in values.items():
            text = "" if value is None else str(value)
            properties[self.properties[name]] = self.to_hubspot_values.get(name, {}).get(text, text)
        return properties

    def from_properties(self, properties: Mapping[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, hubspot_name in self.properties.items():
            value = properties.get(hubspot_name)
            if isinstance(value, str) and name in self.from_hubspot_values:
                value = self.from_hubspot_values[name].get(value, value)
            values[name] = value
        return values


def _merged_properties(
    overrides: Mapping[str, Mapping[str, str]],
) -> dict[CrmDomain, dict[str, str]]:
    check_field_mapping(overrides)
    return {
        domain: {**defaults, **overrides.get(domain.value, {})}
        for domain, defaults in DEFAULT_PROPERTIES.items()
    }


def _mappings(
    property_overrides: Mapping[str, Mapping[str, str]],
    enum_overrides: Mapping[str, Mapping[str, str]],
) -> dict[CrmDomain, _Mapping]:
    unknown_fields = sorted(set(enum_overrides) - set(ENUM_TYPES))
    if unknown_fields:
        raise AppError(f"TELECRM_HUBSPOT_ENUM_VALUES: unknown key {unknown_fields[0]!r}")
    to_hubspot: dict[str, dict[str, str]] = {}
    from_hubspot: dict[str, dict[str, str]] = {}
    for name in ENUM_TYPES:
        values = {**DEFAULT_ENUM_VALUES.get(name, {}), **enum_overrides.get(name, {})}
        known = {member.value for member in ENUM_TYPES[name]}
        unknown = sorted(set(values) - known)
        if unknown:
            raise AppError(
                f"TELECRM_HUBSPOT_ENUM_VALUES: {', '.join(map(repr, unknown))} "
                f"not a {name} (one of: {', '.join(sorted(known))})"
            )
        if len(set(values.values())) != len(values):
            raise AppError(f"TELECRM_HUBSPOT_ENUM_VALUES: two {name} values map to one")
        to_hubspot[name] = values
        from_hubspot[name] = {theirs: ours for ours, theirs in values.items()}
    try:
        properties = _merged_properties(property_overrides)
    except ValueError as exc:
        raise AppError(f"TELECRM_HUBSPOT_PROPERTIES: {exc}") from exc
    return {
        domain: _Mapping(
            domain=domain,
            object_type=OBJECT_TYPES[domain],
            key_field=KEY_FIELDS[domain],
            properties=properties[domain],
            to_hubspot_values=to_hubspot,
            from_hubspot_values=from_hubspot,
        )
        for domain in CrmDomain
    }


def _company_id(obj: Mapping[str, Any], association_type: str) -> str | None:
    """The company of a listed object: the primary association, else the first."""
    companies = ((obj.get("associations") or {}).get("companies") or {}).get("results") or []
    for association in companies:
        if association.get("type") == association_type:
            return str(association["id"])
    return str(companies[0]["id"]) if companies else None


class HubSpotConnector(CrmConnector):
    name = "HubSpot"

    def __init__(
        self,
        client: HubSpotClient,
        property_overrides: Mapping[str, Mapping[str, str]] | None = None,
        enum_overrides: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        """The overrides, ``{domain: {field: property}}`` and ``{field: {our value:
        HubSpot value}}``, are merged over the defaults."""
        self.client = client
        self._mappings = _mappings(property_overrides or {}, enum_overrides or {})

    @classmethod
    def from_settings(cls, settings: Settings, **client_options: Any) -> HubSpotConnector:
        return cls(
            HubSpotClient.from_settings(settings, **client_options),
            settings.hubspot_properties,
            settings.hubspot_enum_values,
        )

    def close(self) -> None:
        self.client.close()

    def _record(self, mapping: _Mapping, obj: Mapping[str, Any]) -> CrmRecord:
        association = COMPANY_ASSOCIATIONS.get(mapping.domain)
        return CrmRecord(
            crm_id=str(obj["id"]),
            updated_at=parse_time(obj.get("updatedAt")),
            values=mapping.from_properties(obj.get("properties") or {}),
            account_crm_id=_company_id(obj, association) if association else None,
        )

    def pages(self, domain: CrmDomain) -> Iterator[list[CrmRecord]]:
        mapping = self._mappings[domain]
        associations = ["companies"] if domain in COMPANY_ASSOCIATIONS else []
        for page in self.client.list_objects(
            mapping.object_type, list(mapping.properties.values()), associations
        ):
            yield [self._record(mapping, obj) for obj in page]

    def read(self, domain: CrmDomain, crm_ids: Sequence[str]) -> dict[str, CrmRecord]:
        mapping = self._mappings[domain]
        found: dict[str, CrmRecord] = {}
        for chunk in batches(crm_ids, self.client.batch_size):
            result = self.client.batch_read(
                mapping.object_type, chunk, list(mapping.properties.values())
            )
            for obj in result.results:
                record = self._record(mapping, obj)
                found[record.crm_id] = record
        return found

    def upsert(self, domain: CrmDomain, records: Sequence[OutgoingRecord]) -> WriteResult:
        """Batch by batch; the first batch HubSpot refuses (after the client's retries)
        stops the run, and it and every later record are reported as failed."""
        mapping = self._mappings[domain]
        result = WriteResult()
        for start in range(0, len(records), self.client.batch_size):
            chunk = records[start : start + self.client.batch_size]
            try:
                self._upsert_batch(mapping, chunk, result)
            except ExternalServiceError as exc:
                for record in records[start:]:
                    result.written.pop(record.key, None)
                    result.failed.setdefault(record.key, exc.message)
                break
        return result

    def _upsert_batch(
        self, mapping: _Mapping, chunk: Sequence[OutgoingRecord], result: WriteResult
    ) -> None:
        answer = self.client.batch_upsert(
            mapping.object_type,
            [(record.key, mapping.to_properties(record.values)) for record in chunk],
            mapping.key_property,
        )
        written: dict[str, WrittenRecord] = {}
        for obj in answer.results:
            key = str((obj.get("properties") or {}).get(mapping.key_property, ""))
            written[key] = WrittenRecord(str(obj["id"]), parse_time(obj.get("updatedAt")))
        for record in chunk:
            if record.key in written:
                result.written[record.key] = written[record.key]
            else:
                result.failed[record.key] = answer.error_summary() or "HubSpot did not take it"
        association = COMPANY_ASSOCIATIONS.get(mapping.domain)
        if association is None:
            return
        links = [r for r in chunk if r.key in written and r.account_crm_id is not None]
        unlinks = [
            r
            for r in chunk
            if r.key in written
            and r.previous_account_crm_id is not None
            and r.previous_account_crm_id != r.account_crm_id
        ]
        try:
            if unlinks:
                self.client.batch_associate(
                    mapping.object_type,
                    "companies",
                    [(written[r.key].crm_id, str(r.previous_account_crm_id)) for r in unlinks],
                    association,
                    archive=True,
                )
            if links:
                self.client.batch_associate(
                    mapping.object_type,
                    "companies",
                    [(written[r.key].crm_id, str(r.account_crm_id)) for r in links],
                    association,
                )
        except ExternalServiceError as exc:
            for key in {record.key for record in (*links, *unlinks)}:
                result.written.pop(key, None)
                result.failed[key] = f"written, but not its company association: {exc.message}"

    def archive(self, domain: CrmDomain, crm_ids: Sequence[str]) -> None:
        mapping = self._mappings[domain]
        for chunk in batches(crm_ids, self.client.batch_size):
            self.client.batch_archive(mapping.object_type, chunk)
