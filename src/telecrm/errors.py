"""The one error hierarchy. Services raise these; the API renders them as
``{"error": ..., "code": ..., "detail": [...]}`` (``telecrm.api_errors.ErrorBody``)
and the CLI prints them as one line. Each class has a stable ``code`` that clients
branch on; a subclass that refines a refusal names its own."""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    """``detail``: one ``{"message", "field" | "line" | "record"}`` per problem.
    ``keep_changes``: the unit of work commits what was done before the error
    (a failed login still counts as a failure) instead of rolling it back.
    ``code``: the refusal's stable name, for clients to act on (the message is for
    people, and may be reworded)."""

    status_code: int = 400
    code: str = "bad_request"

    def __init__(
        self,
        message: str,
        detail: list[dict[str, Any]] | None = None,
        status_code: int | None = None,
        keep_changes: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.keep_changes = keep_changes
        if status_code is not None:
            self.status_code = status_code

    def __str__(self) -> str:
        return self.message

    def response_headers(self) -> dict[str, str] | None:
        return None


class NotAuthenticated(AppError):
    status_code = 401
    code = "not_authenticated"

    def response_headers(self) -> dict[str, str] | None:
        return {"WWW-Authenticate": "Bearer"}


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"


class CsrfRefused(Forbidden):
    """A console form or HTMX request without the session's CSRF token (telecrm.web)."""

    code = "csrf_refused"


class NotFound(AppError):
    status_code = 404
    code = "not_found"


class Conflict(AppError):
    status_code = 409
    code = "conflict"


class ValidationFailed(AppError):
    status_code = 422
    code = "validation_failed"


class RetryLater(AppError):
    """A refusal that passes: the client may try again after ``retry_after`` seconds
    (the ``Retry-After`` header)."""

    def __init__(
        self, message: str, retry_after: int, detail: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message, detail)
        self.retry_after = retry_after

    def response_headers(self) -> dict[str, str] | None:
        return {"Retry-After": str(self.retry_after)}


class TooManyRequests(RetryLater):
    status_code = 429
    code = "too_many_requests"


class DatabaseBusy(RetryLater):
    """The database stayed locked by other writers longer than a writer waits
    (SQLite: one writer at a time)."""

    status_code = 503
    code = "database_busy"


class ExternalServiceError(AppError):
    """A system telecrm depends on (the CRM, a PBX) failed after the retries."""

    status_code = 502
    code = "external_service_failed"


class PayloadTooLarge(AppError):
    status_code = 413
    code = "payload_too_large"


class InternalError(AppError):
    """An unexpected error; the server log has the details. Never raised: the code of
    the answer to an exception that is not an ``AppError``."""

    status_code = 500
    code = "internal_error"


class InvoiceStatusConflict(Conflict):
    """The invoice is not, or no longer, in the status a step of its flow starts
    from (another request may have moved it a moment before)."""

    code = "invoice_status_conflict"


class InvoiceCallsChanged(Conflict):
    """A draft's calls changed since its figures were computed."""

    code = "invoice_calls_changed"


# --- refusals of each domain: one class, and code, per kind of refusal ----------


class CrmRecordNotFound(NotFound):
    """No CRM record (account, contact ...) with the key asked for."""

    code = "crm_record_not_found"


class CrmRecordExists(Conflict):
    """A CRM record with the new record's key already exists."""

    code = "crm_record_exists"


class CrmChangesNotExtracted(Conflict):
    """The CRM changed the records since the last extract: extract them first."""

    code = "crm_changes_not_extracted"


class CrmNotConfigured(Conflict):
    """An extract or a push needs the external CRM, and none is configured."""

    code = "crm_not_configured"


class AccountInUse(Conflict):
    """Other records still name the account that would be deleted."""

    code = "account_in_use"


class UserNotFound(NotFound):
    code = "user_not_found"


class EmailTaken(Conflict):
    code = "email_taken"


class ApiKeyNotFound(NotFound):
    code = "api_key_not_found"


class InvoiceNotFound(NotFound):
    code = "invoice_not_found"


class ContractNotFound(NotFound):
    code = "contract_not_found"


class AccountcodeTaken(Conflict):
    """Another contract already has the accountcode."""

    code = "accountcode_taken"


class AccountcodeInUse(Conflict):
    """Calls or invoices carry the contract's accountcode, so it may not change."""

    code = "accountcode_in_use"


class ContractInUse(Conflict):
    """The contract has invoices, so it may not be deleted."""

    code = "contract_in_use"


class RateGroupNotFound(NotFound):
    code = "rate_group_not_found"


class RateGroupNameTaken(Conflict):
    code = "rate_group_name_taken"


class RateGroupInUse(Conflict):
    """Contracts are rated with the group, so it may not be deleted."""

    code = "rate_group_in_use"


class RateGroupRatesUsed(Conflict):
    """Rates of the group rated calls, so the group may not be deleted."""

    code = "rate_group_rates_used"


class RateNotFound(NotFound):
    code = "rate_not_found"


class RateOverlap(Conflict):
    """Another rate for the destination is in effect over part of the same time."""

    code = "rate_overlap"


class RateInUse(Conflict):
    """The rate rated calls: it may be ended, not repriced or deleted."""

    code = "rate_in_use"


class CdrNotFound(NotFound):
    code = "cdr_not_found"


class CdrImportNotFound(NotFound):
    code = "cdr_import_not_found"


class CdrFileNotFound(NotFound):
    """The CDR file to import does not exist."""

    code = "cdr_file_not_found"


class SourceNotFound(NotFound):
    code = "source_not_found"


class SourceNameTaken(Conflict):
    code = "source_name_taken"


class SourceDisabled(Conflict):
    code = "source_disabled"


class SourceNotPush(Conflict):
    """CDRs are pushed only to a push source."""

    code = "source_not_push"


class SourceRefused(ExternalServiceError):
    """The PBX's CDR database answered and said no (credentials, unknown database or
    table, no TLS where it is required): trying again will not help."""

    code = "source_refused"


class SourceFolderRefused(ExternalServiceError):
    """A directory source's folder is not below a configured root (or none is
    configured), or its pattern is not a file name glob: reading again will not help."""

    code = "source_folder_refused"


class CrmRateLimited(ExternalServiceError):
    """The CRM kept answering 429 after the client's retries: stop for this run, and
    count it against no CDR."""

    code = "crm_rate_limited"


class ArchiveNotVerified(AppError):
    """A month's Parquet archive did not read back with the partition's rows: the
    partition is kept."""

    status_code = 500
    code = "archive_not_verified"


class NotReady(AppError):
    """A service this process needs (the database, the broker, Redis) does not answer."""

    status_code = 503
    code = "not_ready"


class JobNotFound(NotFound):
    code = "job_not_found"


class BrokerUnavailable(ExternalServiceError):
    """A job could not be handed to the broker (RabbitMQ, Redis)."""

    status_code = 503
    code = "broker_unavailable"
