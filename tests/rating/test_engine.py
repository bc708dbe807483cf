"""RATING.md, example by example, and the engine held to the row-by-row reference."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from telecrm.rating import engine, reference
from telecrm.rating.policy import RatingPolicy
from tests.fresh_process import imported_by

T = dt.datetime(2025, 11, 5, 10, 0, tzinfo=dt.UTC)
MONEY = pl.Decimal(38, 8)
UTC = pl.Datetime("us", "UTC")


def rates_frame(*rates: dict[str, Any]) -> pl.DataFrame:
    defaults = {
        "rate_group_id": 1,
        "prefix": "62",
        "rate_type": "per_minute",
        "billing_rate": Decimal(1000),
        "connect_fee": Decimal(0),
        "billing_cycle": 60,
        "initial_increment": None,
        "effective_from": None,
        "effective_to": None,
    }
    rows = [{"rate_id": i + 1, **defaults, **rate} for i, rate in enumerate(rates)]
    return pl.DataFrame(
        rows,
        schema={
            "rate_id": pl.Int64,
            "rate_group_id": pl.Int64,
            "prefix": pl.String,
            "rate_type": pl.String,
            "billing_rate": MONEY,
            "connect_fee": MONEY,
            "billing_cycle": pl.Int64,
            "initial_increment": pl.Int64,
            "effective_from": UTC,
            "effective_to": UTC,
        },
    )


def contracts_frame(*contracts: dict[str, Any]) -> pl.DataFrame:
    rows = [
        {"contract_id": 100 + i, "accountcode": "ACC", "rate_group_id": 1, "rewrite_rules": None}
        | contract
        for i, contract in enumerate(contracts or ({},))
    ]
    return pl.DataFrame(
        rows,
        schema={
            "contract_id": pl.Int64,
            "accountcode": pl.String,
            "rate_group_id": pl.Int64,
            "rewrite_rules": pl.List(pl.List(pl.String)),
        },
    )


def cdrs_frame(*cdrs: dict[str, Any]) -> pl.DataFrame:
    defaults = {
        "accountcode": "ACC",
        "dst": "081234567890",
        "start_time": T,
        "billsec": 61,
        "disposition": "ANSWERED",
    }
    rows = [{"cdr_id": i + 1, **defaults, **cdr} for i, cdr in enumerate(cdrs)]
    return pl.DataFrame(
        rows,
        schema={
            "cdr_id": pl.Int64,
            "accountcode": pl.String,
            "dst": pl.String,
            "start_time": UTC,
            "billsec": pl.Int64,
            "disposition": pl.String,
        },
    )


def rate_both(
    cdrs: pl.DataFrame,
    contracts: pl.DataFrame,
    rates: pl.DataFrame,
    policy: RatingPolicy | None = None,
) -> list[dict[str, Any]]:
    """The engine's result, after checking the reference gives exactly the same."""
    policy = policy or RatingPolicy()
    result = engine.rate(cdrs, contracts, rates, policy)
    expected = reference.rate(cdrs, contracts, rates, policy)
    assert result.schema == engine.RESULT_SCHEMA
    assert result.to_dicts() == expected.to_dicts()
    return result.to_dicts()


WORKED_EXAMPLES = [
    # rate, call, billable, cost: RATING.md's table, row by row
    (
        {"rate_type": "per_minute", "billing_rate": "1200", "billing_cycle": 60},
        "ANSWERED",
        61,
        120,
        "2400",
    ),
    (
        {"rate_type": "per_minute", "billing_rate": "1500", "billing_cycle": 6},
        "ANSWERED",
        61,
        66,
        "1650",
    ),
    (
        {"rate_type": "per_second", "billing_rate": "25", "billing_cycle": 1},
        "ANSWERED",
        61,
        61,
        "1525",
    ),
    (
        {"rate_type": "per_second", "billing_rate": "25", "billing_cycle": 30},
        "ANSWERED",
        61,
        90,
        "2250",
    ),
    (
        {"rate_type": "flat_rate", "billing_rate": "3000", "billing_cycle": 60},
        "ANSWERED",
        5,
        60,
        "3000",
    ),
    (
        {"rate_type": "flat_rate", "billing_rate": "3000", "billing_cycle": 60},
        "NO ANSWER",
        0,
        0,
        "0",
    ),
    (
        {
            "rate_type": "per_minute",
            "billing_rate": "0.05",
            "initial_increment": 30,
            "billing_cycle": 6,
        },
        "ANSWERED",
        32,
        36,
        "0.03",
    ),
    (
        {
            "rate_type": "per_minute",
            "billing_rate": "0.06",
            "initial_increment": 90,
            "billing_cycle": 60,
        },
        "ANSWERED",
        100,
        150,
        "0.15",
    ),
    (
        {
            "rate_type": "per_minute",
            "billing_rate": "0.10",
            "billing_cycle": 1,
            "connect_fee": "0.15",
        },
        "ANSWERED",
        24,
        24,
        "0.19",
    ),
]


@pytest.mark.parametrize(("rate", "disposition", "billsec", "billable", "cost"), WORKED_EXAMPLES)
def test_worked_examples(
    rate: dict[str, Any], disposition: str, billsec: int, billable: int, cost: str
) -> None:
    rate = {k: Decimal(v) if k in ("billing_rate", "connect_fee") else v for k, v in rate.items()}
    [row] = rate_both(
        cdrs_frame({"billsec": billsec, "disposition": disposition}),
        contracts_frame(),
        rates_frame(rate),
    )
    assert row["rating_status"] == "rated"
    assert (row["billable_seconds"], row["cost"]) == (billable, Decimal(cost))


def test_longest_prefix_example() -> None:
    rates = rates_frame(
        {"prefix": "62", "billing_rate": Decimal(5000)},
        {"prefix": "628", "billing_rate": Decimal(4000)},
        {"prefix": "62812", "billing_rate": Decimal(1200)},
    )
    [row] = rate_both(cdrs_frame({"dst": "0812 3456 789", "billsec": 45}), contracts_frame(), rates)
    assert row["cleaned_number"] == "628123456789"
    assert (row["matched_prefix"], row["rate_id"], row["cost"]) == ("62812", 3, Decimal(1200))


def test_longest_prefix_among_siblings_and_a_catch_all() -> None:
    rates = rates_frame(
        {"prefix": "", "billing_rate": Decimal(9000)},  # everything else
        {"prefix": "6281", "billing_rate": Decimal(1)},
        {"prefix": "62812", "billing_rate": Decimal(2)},
        {"prefix": "62813", "billing_rate": Decimal(3)},
        {"prefix": "62", "area_prefix": None, "billing_rate": Decimal(4)},
    )
    rows = rate_both(
        cdrs_frame(
            {"dst": "081234567"},
            {"dst": "081399999"},
            {"dst": "081499999"},
            {"dst": "+6221999999"},
            {"dst": "+4420794600"},
        ),
        contracts_frame(),
        rates,
    )
    assert [row["matched_prefix"] for row in rows] == ["62812", "62813", "6281", "62", ""]


def test_a_number_shorter_than_a_prefix_that_it_starts() -> None:
    """ "6281000" must not match prefix "62810000" (its missing digits are not zeros)."""
    rates = rates_frame({"prefix": "628"}, {"prefix": "62810000"}, {"prefix": "6281000099"})
    rows = rate_both(
        cdrs_frame({"dst": "06281000"[1:]}, {"dst": "6281000099123"}), contracts_frame(), rates
    )
    assert [row["matched_prefix"] for row in rows] == ["628", "6281000099"]


@pytest.mark.parametrize(
    ("dst", "reason", "cleaned"),
    [
        ("*97", "invalid_number", "*97"),
        ("", "invalid_number", ""),
        ("08123abc", "invalid_number", "628123abc"),
        ("1234", "internal", "1234"),
        ("0812", "internal", "62812"),
    ],
)
def test_number_reasons(dst: str, reason: str, cleaned: str) -> None:
    [row] = rate_both(cdrs_frame({"dst": dst}), contracts_frame(), rates_frame({}))
    assert (row["rating_status"], row["rating_reason"]) == ("unrated", reason)
    assert row["cleaned_number"] == cleaned
    assert row["cost"] is None and row["rate_id"] is None


def test_no_contract_and_no_rate() -> None:
    rows = rate_both(
        cdrs_frame({"accountcode": "UNKNOWN"}, {"dst": "0044207946000"}),
        contracts_frame(),
        rates_frame({"prefix": "62"}),
    )
    assert [(r["rating_status"], r["rating_reason"]) for r in rows] == [
        ("unrated", "no_contract"),
        ("unrated", "no_rate"),
    ]
    assert rows[1]["contract_id"] == 100  # known, only the rate is missing


def test_accountcode_matches_after_trimming() -> None:
    [row] = rate_both(
        cdrs_frame({"accountcode": " ACC\t"}),
        contracts_frame({"accountcode": "ACC "}),
        rates_frame({}),
    )
    assert row["rating_status"] == "rated" and row["contract_id"] == 100


@pytest.mark.parametrize(
    ("dst", "cleaned"),
    [
        ('"Budi" <0812-3456-789>', "628123456789"),
        ("'(021) 555.1234'", "62215551234"),
        ("+62 21 5551234", "62215551234"),
        ("0044 20 7946 0000", "442079460000"),
        ("+0812345678", "0812345678"),  # first rule only, once: not 62812...
    ],
)
def test_number_cleaning(dst: str, cleaned: str) -> None:
    [row] = rate_both(cdrs_frame({"dst": dst}), contracts_frame(), rates_frame({"prefix": ""}))
    assert row["cleaned_number"] == cleaned


def test_a_contracts_rewrite_rules_replace_the_installations() -> None:
    contracts = contracts_frame(
        {"accountcode": "ACC"},
        {"accountcode": "PBX9", "rewrite_rules": [["9", ""], ["0", "44"]]},
    )
    rows = rate_both(
        cdrs_frame({"dst": "9081234567"}, {"dst": "9081234567", "accountcode": "PBX9"}),
        contracts,
        rates_frame({"prefix": "", "rate_group_id": 1}),
    )
    assert [row["cleaned_number"] for row in rows] == ["9081234567", "081234567"]


def test_configured_rules_length_and_dispositions() -> None:
    policy = RatingPolicy(
        rewrite_rules=(("00", ""),), min_number_length=4, answered_dispositions=("answer",)
    )
    rows = rate_both(
        cdrs_frame(
            {"dst": "0044123", "disposition": "Answer "},
            {"dst": "1234", "disposition": "ANSWERED"},
        ),
        contracts_frame(),
        rates_frame({"prefix": "44"}, {"prefix": "1"}),
        policy,
    )
    assert [(r["cleaned_number"], r["cost"]) for r in rows] == [
        ("44123", Decimal("2000")),
        ("1234", Decimal(0)),  # not an answered disposition under this policy
    ]


def test_unanswered_and_zero_second_calls_cost_nothing_not_even_the_connect_fee() -> None:
    rows = rate_both(
        cdrs_frame(
            {"disposition": "BUSY", "billsec": 10},
            {"disposition": "ANSWERED", "billsec": 0},
        ),
        contracts_frame(),
        rates_frame({"connect_fee": Decimal("0.15")}),
    )
    assert [(r["rating_status"], r["billable_seconds"], r["cost"]) for r in rows] == [
        ("rated", 0, Decimal(0)),
        ("rated", 0, Decimal(0)),
    ]


def test_effective_dates_pick_the_rate_in_effect_at_the_start() -> None:
    change = dt.datetime(2025, 11, 5, 12, 0, tzinfo=dt.UTC)
    rates = rates_frame(
        {"prefix": "62", "billing_rate": Decimal(100), "effective_to": change},
        {"prefix": "62", "billing_rate": Decimal(200), "effective_from": change},
        {
            "prefix": "628",
            "billing_rate": Decimal(300),
            "effective_from": change + dt.timedelta(hours=1),
            "effective_to": change + dt.timedelta(hours=2),
        },
    )
    starts = [
        change - dt.timedelta(seconds=1),
        change,  # effective_from is included, effective_to excluded
        change + dt.timedelta(hours=1, minutes=30),
        change + dt.timedelta(hours=2),
    ]
    rows = rate_both(
        cdrs_frame(*({"start_time": start, "billsec": 60} for start in starts)),
        contracts_frame(),
        rates,
    )
    assert [r["rate_id"] for r in rows] == [1, 2, 3, 2]


def test_no_rate_in_effect_yet() -> None:
    rates = rates_frame({"effective_from": T + dt.timedelta(days=1)})
    [row] = rate_both(cdrs_frame({}), contracts_frame(), rates)
    assert row["rating_reason"] == "no_rate"


def test_overlapping_rates_the_later_one_wins() -> None:
    rates = rates_frame(
        {"billing_rate": Decimal(1), "effective_from": T - dt.timedelta(days=9)},
        {"billing_rate": Decimal(2), "effective_from": T - dt.timedelta(days=1)},
        {"billing_rate": Decimal(3)},
    )
    [row] = rate_both(cdrs_frame({}), contracts_frame(), rates)
    assert row["rate_id"] == 2


@pytest.mark.parametrize(
    ("rate", "rate_type", "billsec", "cost"),
    [
        ("0.00003", "per_minute", 1, "0.000001"),  # 0.0000005: half rounds up
        ("0.00002999", "per_minute", 1, "0"),  # 0.00000049983...: down
        ("0.0000005", "per_second", 1, "0.000001"),
        ("0.00000049", "per_second", 1, "0"),
        ("1", "per_minute", 1, "0.016667"),  # 1/60, rounded once
        ("1", "per_minute", 7, "0.116667"),  # 7/60: not 7 x 0.016667 = 0.116669
    ],
)
def test_rounded_once_half_up_at_the_sixth_place(
    rate: str, rate_type: str, billsec: int, cost: str
) -> None:
    [row] = rate_both(
        cdrs_frame({"billsec": billsec}),
        contracts_frame(),
        rates_frame({"billing_rate": Decimal(rate), "rate_type": rate_type, "billing_cycle": 1}),
    )
    assert row["cost"] == Decimal(cost)


def test_huge_rates_and_calls_stay_exact() -> None:
    rate = Decimal("99999999999.99999999")
    [row] = rate_both(
        cdrs_frame({"billsec": 10**9}),
        contracts_frame(),
        rates_frame({"billing_rate": rate, "rate_type": "per_second", "billing_cycle": 1}),
    )
    assert row["cost"] == rate * 10**9


def test_bad_reference_data_is_refused_not_skipped() -> None:
    with pytest.raises(engine.RatingError, match="not digits"):
        engine.rate(
            cdrs_frame({}), contracts_frame(), rates_frame({"prefix": "62x"}), RatingPolicy()
        )
    with pytest.raises(engine.RatingError, match="share an account code"):
        engine.rate(
            cdrs_frame({}),
            contracts_frame({"accountcode": "ACC"}, {"accountcode": " ACC"}),
            rates_frame({}),
            RatingPolicy(),
        )


def test_no_cdrs_and_no_rates() -> None:
    assert engine.rate(cdrs_frame(), contracts_frame(), rates_frame({}), RatingPolicy()).is_empty()
    [row] = rate_both(cdrs_frame({}), contracts_frame(), rates_frame().clear())
    assert row["rating_reason"] == "no_rate"


# --- the engine equals the reference on random data ----------------------------

_digits = st.text("0123456789", min_size=0, max_size=4)
_instants = st.integers(0, 4).map(lambda hours: T + dt.timedelta(hours=hours))


@st.composite
def _scenarios(draw: st.DrawFn) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    rates = []
    for _ in range(draw(st.integers(0, 25))):
        start = draw(st.none() | _instants)
        end = draw(st.none() | _instants)
        if start is not None and end is not None and end <= start:
            start, end = end, start + dt.timedelta(hours=1)
        rates.append(
            {
                "rate_group_id": draw(st.integers(1, 3)),
                "prefix": draw(st.sampled_from(["", "6", "62", "628"])) + draw(_digits),
                "rate_type": draw(st.sampled_from(["per_minute", "per_second", "flat_rate"])),
                "billing_rate": Decimal(draw(st.integers(0, 10**12))).scaleb(-8),
                "connect_fee": Decimal(draw(st.integers(0, 10**9))).scaleb(-8),
                "billing_cycle": draw(st.sampled_from([1, 6, 30, 60, 7])),
                "initial_increment": draw(st.none() | st.integers(1, 90)),
                "effective_from": start,
                "effective_to": end,
            }
        )
    contracts = [
        {"accountcode": "A", "rate_group_id": 1},
        {"accountcode": "B", "rate_group_id": 2, "rewrite_rules": [["9", ""], ["0", "62"]]},
        {"accountcode": "C", "rate_group_id": 3},
    ]
    cdrs = [
        {
            "accountcode": draw(st.sampled_from(["A", "B", "C", "Z", " A"])),
            "dst": draw(st.sampled_from(["", "0", "+", "00", "9", '"X" <0', "6"]))
            + draw(st.text("0123456789 -()x", max_size=14)),
            "start_time": draw(_instants) + dt.timedelta(seconds=draw(st.integers(0, 3599))),
            "billsec": draw(st.integers(0, 4000)),
            "disposition": draw(st.sampled_from(["ANSWERED", "NO ANSWER", "answered "])),
        }
        for _ in range(draw(st.integers(1, 40)))
    ]
    return cdrs_frame(*cdrs), contracts_frame(*contracts), rates_frame(*rates)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_scenarios(), st.integers(1, 9))
def test_engine_equals_reference(
    scenario: tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame], min_length: int
) -> None:
    cdrs, contracts, rates = scenario
    rate_both(cdrs, contracts, rates, RatingPolicy(min_number_length=min_length))


def test_the_engine_reads_no_database_and_no_model(tmp_path: Path) -> None:
    """Frames in, frames out: the engine sits below every domain that stores calls."""
    imported = imported_by("import telecrm.rating.engine, telecrm.rating.reference", tmp_path)
    assert "sqlalchemy" not in imported.libraries()
    ours = {name for name in imported.modules if name.startswith("telecrm.")}
    assert {name for name in ours if name.endswith((".models", ".db"))} == set()
