"""HubSpot CRM v3, for any object type (companies, contacts, deals, and calls or
custom objects alike): bearer token, explicit timeouts, retries with exponential
backoff on network errors, 429 and 5xx (honouring ``Retry-After``), paging with
``after``, and the batch endpoints. It knows HubSpot's API, not telecrm's records:
``crm/hubspot.py`` maps the CRM domains onto it, ``call_sync`` the calls."""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from telecrm.config import Settings
from telecrm.errors import AppError, ExternalServiceError

log = logging.getLogger(__name__)

API = "/crm/v3"
T = TypeVar("T")


def batches(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def parse_time(value: Any) -> dt.datetime | None:
    """HubSpot's timestamps: ISO 8601 (``2024-03-01T10:00:00.123Z``) or epoch ms."""
    if value in (None, ""):
        return None
    if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        return dt.datetime.fromtimestamp(int(value) / 1000, dt.UTC)
    parsed = dt.datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _retry_after_seconds(response: httpx.Response) -> float | None:
    """``Retry-After`` as seconds or as an HTTP date; None when absent or unreadable."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return response.text[:200]


class _RetryableResponse(Exception):
    """A 429 or 5xx: HubSpot may well answer the same request a moment later."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}: {_error_message(response)}")
        self.status_code = response.status_code
        self.retry_after = _retry_after_seconds(response)


@dataclass
class BatchResult:
    """A batch endpoint's answer: the objects it processed, and (HTTP 207) the
    errors of the inputs it did not."""

    results: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_body(cls, body: Any) -> BatchResult:
        if not isinstance(body, dict):
            return cls()
        return cls(list(body.get("results") or []), list(body.get("errors") or []))

    def error_summary(self) -> str:
        return "; ".join(str(error.get("message", error)) for error in self.errors[:3])


class HubSpotClient:
    """The HubSpot API for any object type. Thread-safe (one httpx client)."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        max_attempts: int = 5,
        backoff_seconds: float = 1.0,
        backoff_max_seconds: float = 30.0,
        retry_after_max_seconds: float = 120.0,
        page_size: int = 100,
        batch_size: int = 100,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.backoff_max_seconds = backoff_max_seconds
        self.retry_after_max_seconds = retry_after_max_seconds
        self.page_size = page_size
        self.batch_size = batch_size
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            transport=transport,
        )

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> HubSpotClient:
        if settings.hubspot_token is None:
            raise AppError("no HubSpot token: set TELECRM_HUBSPOT_TOKEN")
        return cls(
            settings.hubspot_base_url,
            settings.hubspot_token.get_secret_value(),
            connect_timeout=settings.hubspot_connect_timeout,
            read_timeout=settings.hubspot_read_timeout,
            max_attempts=settings.hubspot_max_attempts,
            backoff_seconds=settings.hubspot_backoff_seconds,
            backoff_max_seconds=settings.hubspot_backoff_max_seconds,
            retry_after_max_seconds=settings.hubspot_retry_after_max_seconds,
            page_size=settings.hubspot_page_size,
            batch_size=settings.hubspot_batch_size,
            **options,
        )

    def close(self) -> None:
        self._http.close()

    # --- one request, retried ------------------------------------------------

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _RetryableResponse) and error.retry_after is not None:
            return min(error.retry_after, self.retry_after_max_seconds)
        return float(
            min(self.backoff_seconds * 2 ** (state.attempt_number - 1), self.backoff_max_seconds)
        )

    def _log_retry(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning(
            "HubSpot: %s (attempt %d of %d); retrying in %.1f s",
            error,
            state.attempt_number,
            self.max_attempts,
            wait,
        )

    def _send(
        self, method: str, path: str, params: Mapping[str, Any] | None, body: Any
    ) -> httpx.Response:
        response = self._http.request(method, path, params=params, json=body)
        status = response.status_code
        if status == 429 or status >= 500:
            raise _RetryableResponse(response)
        if status == 401:
            raise ExternalServiceError(
                "HubSpot refused the access token (401): check TELECRM_HUBSPOT_TOKEN"
            )
        if status == 403:
            raise ExternalServiceError(
                f"HubSpot denied {method} {path} (403, a missing scope of the private app?): "
                f"{_error_message(response)}"
            )
        if status >= 400:
            raise ExternalServiceError(
                f"HubSpot refused {method} {path} ({status}): {_error_message(response)}"
            )
        return response

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        """The decoded JSON answer (None for 204). Raises ``ExternalServiceError`` on a
        refusal, or once the retries of network errors, 429 and 5xx are used up."""
        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type((httpx.TransportError, _RetryableResponse)),
            before_sleep=self._log_retry,
            sleep=self._sleep,
            reraise=True,
        )
        try:
            response = retrying(self._send, method, path, params, json)
        except _RetryableResponse as exc:
            raise ExternalServiceError(
                f"HubSpot answered {method} {path} with {exc} "
                f"(gave up after {self.max_attempts} attempts)"
            ) from exc
        except httpx.TransportError as exc:
            raise ExternalServiceError(
                f"HubSpot could not be reached for {method} {path}: "
                f"{type(exc).__name__}: {exc} (gave up after {self.max_attempts} attempts)"
            ) from exc
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    # --- objects (any type) ----------------------------------------------------

    def list_objects(
        self,
        object_type: str,
        properties: Sequence[str],
        associations: Sequence[str] = (),
    ) -> Iterator[list[dict[str, Any]]]:
        """Every (unarchived) object, a page at a time, following ``paging.next.after``."""
        after: str | None = None
        while True:
            params: dict[str, Any] = {
                "limit": self.page_size,
                "properties": ",".join(properties),
                "archived": "false",
            }
            if associations:
                params["associations"] = ",".join(associations)
            if after is not None:
                params["after"] = after
            page = self.request("GET", f"{API}/objects/{object_type}", params=params) or {}
            yield list(page.get("results") or [])
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return

    def _check_batch(self, inputs: Sequence[Any]) -> None:
        if len(inputs) > self.batch_size:
            raise ValueError(f"{len(inputs)} inputs; a HubSpot batch takes {self.batch_size}")

    def batch_read(
        self,
        object_type: str,
        ids: Sequence[str],
        properties: Sequence[str],
        id_property: str | None = None,
    ) -> BatchResult:
        """Objects by id (HubSpot's, or the values of a unique ``id_property``)."""
        self._check_batch(ids)
        body: dict[str, Any] = {
            "inputs": [{"id": str(object_id)} for object_id in ids],
            "properties": list(properties),
        }
        if id_property is not None:
            body["idProperty"] = id_property
        path = f"{API}/objects/{object_type}/batch/read"
        return BatchResult.from_body(self.request("POST", path, json=body))

    def batch_upsert(
        self, object_type: str, inputs: Sequence[tuple[str, Mapping[str, Any]]], id_property: str
    ) -> BatchResult:
        """Create or update objects found by the value of the unique ``id_property``:
        idempotent, so a request retried after a lost answer writes nothing twice."""
        self._check_batch(inputs)
        body = {
            "inputs": [
                {"idProperty": id_property, "id": str(object_id), "properties": dict(values)}
                for object_id, values in inputs
            ]
        }
        path = f"{API}/objects/{object_type}/batch/upsert"
        return BatchResult.from_body(self.request("POST", path, json=body))

    def batch_archive(self, object_type: str, ids: Sequence[str]) -> None:
        self._check_batch(ids)
        body = {"inputs": [{"id": str(object_id)} for object_id in ids]}
        self.request("POST", f"{API}/objects/{object_type}/batch/archive", json=body)

    def batch_associate(
        self,
        from_type: str,
        to_type: str,
        pairs: Sequence[tuple[str, str]],
        association_type: str,
        archive: bool = False,
    ) -> None:
        """Create (or with ``archive`` remove) associations; both are idempotent."""
        self._check_batch(pairs)
        body = {
            "inputs": [
                {"from": {"id": from_id}, "to": {"id": to_id}, "type": association_type}
                for from_id, to_id in pairs
            ]
        }
        action = "archive" if archive else "create"
        path = f"{API}/associations/{from_type}/{to_type}/batch/{action}"
        self.request("POST", path, json=body)
