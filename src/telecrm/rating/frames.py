"""The frames rating takes and gives, shared by the engine and the reference that checks
it: both must read the same columns and give the same schema for their results to be
compared, and both refuse reference data they cannot rate with the same error.

Inputs (columns beyond these are ignored):

- ``cdrs``: ``cdr_id``, ``accountcode``, ``dst``, ``start_time`` (UTC), ``billsec``,
  ``disposition``.
- ``contracts``: ``contract_id``, ``accountcode``, ``rate_group_id``, ``rewrite_rules``
  (``[[prefix, replacement], ...]`` or null for the policy's rules).
- ``rates``: ``rate_id``, ``rate_group_id``, ``prefix`` (``rate_prefix + area_prefix``),
  ``rate_type``, ``billing_rate`` and ``connect_fee`` (decimals, at most 8 places),
  ``billing_cycle``, ``initial_increment`` (null: the cycle), ``effective_from`` and
  ``effective_to`` (UTC, null: open).

Output, one row per CDR in input order: ``cdr_id``, ``rating_status`` (``rated`` or
``unrated``), ``rating_reason``, ``contract_id``, ``cleaned_number``, ``matched_prefix``,
``rate_id``, ``billable_seconds``, ``cost`` (``Decimal(38, 6)``).
"""

from __future__ import annotations

import polars as pl

from telecrm.money import COST_SCALE

CDR_COLUMNS = ("cdr_id", "accountcode", "dst", "start_time", "billsec", "disposition")
CONTRACT_COLUMNS = ("contract_id", "accountcode", "rate_group_id", "rewrite_rules")
RATE_COLUMNS = (
    "rate_id",
    "rate_group_id",
    "prefix",
    "rate_type",
    "billing_rate",
    "connect_fee",
    "billing_cycle",
    "initial_increment",
    "effective_from",
    "effective_to",
)
RESULT_SCHEMA = pl.Schema(
    [
        ("cdr_id", pl.Int64()),
        ("rating_status", pl.String()),
        ("rating_reason", pl.String()),
        ("contract_id", pl.Int64()),
        ("cleaned_number", pl.String()),
        ("matched_prefix", pl.String()),
        ("rate_id", pl.Int64()),
        ("billable_seconds", pl.Int64()),
        ("cost", pl.Decimal(38, COST_SCALE)),
    ]
)


class RatingError(ValueError):
    """The reference data cannot be rated as it is (a rate whose prefix is not digits,
    two contracts with one account code...): nothing is rated until it is fixed."""
