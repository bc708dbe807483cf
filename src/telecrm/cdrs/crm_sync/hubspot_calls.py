"""CDRs as HubSpot calls: the calls object's property names and values, the upsert by
our unique key, and the associations to a contact and a company. Nothing outside this
file knows HubSpot's names for any of it; the HTTP side (retries, 429) is the CRM's
``HubSpotClient``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from telecrm.config import Settings
from telecrm.errors import CrmRateLimited, ExternalServiceError

if TYPE_CHECKING:
    from telecrm.crm.hubspot_client import HubSpotClient

OBJECT_TYPE = "calls"
CONTACT_ASSOCIATION = "call_to_contact"
COMPANY_ASSOCIATION = "call_to_company"
# hs_call_status values (HubSpot's calls API) for Asterisk's dispositions.
STATUS_BY_DISPOSITION = {
    "ANSWERED": "COMPLETED",
    "NO ANSWER": "NO_ANSWER",
    "BUSY": "BUSY",
    "FAILED": "FAILED",
    "CONGESTION": "FAILED",
}
# One upsert and up to two association requests per batch.
MAX_REQUESTS_PER_BATCH = 3


@dataclass(frozen=True)
class OutgoingCall:
    """A call in telecrm's terms. ``key`` is the CDR's unique key; the CRM keeps it in a
    unique property, which is what makes a repeated push an update, not a new call."""

    key: str
    started_at: dt.datetime
    from_number: str
    to_number: str
    talk_seconds: int
    disposition: str
    direction: str | None  # "inbound", "outbound", or None (internal, transit)
    title: str
    body: str
    contact_crm_id: str | None = None
    company_crm_id: str | None = None


@dataclass
class CallWriteResult:
    """Per call key: the CRM's id of the call, or why it was not written."""

    written: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    requests: int = 0


def _properties(call: OutgoingCall, key_property: str) -> dict[str, Any]:
    properties: dict[str, Any] = {
        key_property: call.key,
        "hs_timestamp": call.started_at.astimezone(dt.UTC).isoformat(timespec="milliseconds"),
        "hs_call_title": call.title,
        "hs_call_body": call.body,
        "hs_call_duration": str(call.talk_seconds * 1000),  # milliseconds
        "hs_call_from_number": call.from_number,
        "hs_call_to_number": call.to_number,
        "hs_call_status": STATUS_BY_DISPOSITION.get(call.disposition.upper(), "COMPLETED"),
    }
    if call.direction is not None:
        properties["hs_call_direction"] = call.direction.upper()
    return properties


def _is_rate_limit(error: ExternalServiceError) -> bool:
    return getattr(error.__cause__, "status_code", None) == 429


class HubSpotCalls:
    def __init__(self, client: HubSpotClient, key_property: str) -> None:
        self.client = client
        self.key_property = key_property

    @classmethod
    def from_settings(cls, settings: Settings, **client_options: Any) -> HubSpotCalls:
        from telecrm.crm.hubspot_client import HubSpotClient  # httpx: only when calls are pushed

        return cls(
            HubSpotClient.from_settings(settings, **client_options), settings.crm_call_key_property
        )

    def close(self) -> None:
        self.client.close()

    def upsert(self, calls: Sequence[OutgoingCall]) -> CallWriteResult:
        """One batch (at most the client's batch size). Raises ``CrmRateLimited`` when the
        CRM's rate limit outlasted the retries, ``ExternalServiceError`` when it refused
        or failed the whole batch."""
        result = CallWriteResult()
        try:
            answer = self.client.batch_upsert(
                OBJECT_TYPE,
                [(call.key, _properties(call, self.key_property)) for call in calls],
                self.key_property,
            )
        except ExternalServiceError as exc:
            if _is_rate_limit(exc):
                raise CrmRateLimited(exc.message) from exc
            raise
        result.requests += 1
        crm_ids = {
            str((obj.get("properties") or {}).get(self.key_property, "")): str(obj["id"])
            for obj in answer.results
        }
        for call in calls:
            if call.key in crm_ids:
                result.written[call.key] = crm_ids[call.key]
            else:
                result.failed[call.key] = answer.error_summary() or "HubSpot did not take the call"
        self._associate(calls, result)
        return result

    def _associate(self, calls: Sequence[OutgoingCall], result: CallWriteResult) -> None:
        """Associations are idempotent in HubSpot, so a call written again is simply
        associated again. A call whose association fails is reported failed: the next
        run upserts it (no duplicate) and associates it again."""
        for to_type, association, target in (
            ("contacts", CONTACT_ASSOCIATION, lambda call: call.contact_crm_id),
            ("companies", COMPANY_ASSOCIATION, lambda call: call.company_crm_id),
        ):
            linked = [c for c in calls if c.key in result.written and target(c) is not None]
            if not linked:
                continue
            try:
                self.client.batch_associate(
                    OBJECT_TYPE,
                    to_type,
                    [(result.written[c.key], str(target(c))) for c in linked],
                    association,
                )
            except ExternalServiceError as exc:
                for call in linked:
                    del result.written[call.key]
                    result.failed[call.key] = (
                        f"written, but not its {to_type} association: {exc.message}"
                    )
            else:
                result.requests += 1
