"""Benchmark data of the billing benchmarks: an Indonesian operator's rate deck (4
rate groups of 1,250 prefixes each, every rate type and cycle), 200 contracts, and a
month of calls as Asterisk writes them (chronological, most to Indonesian mobiles,
some decorated numbers, extensions and foreign calls), built with Polars in seconds
and cached under ``bench/data/``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import numpy as np
import polars as pl

DATA = Path(__file__).parent / "data"
GROUPS = 4
PREFIXES_PER_GROUP = 1250
CONTRACTS = 200
MONTH_START = dt.datetime(2025, 11, 1, tzinfo=dt.timezone(dt.timedelta(hours=7)))


def prefixes(seed: int = 4) -> list[str]:
    """1,250 distinct destination prefixes: Indonesian mobile and area codes, from 3
    to 8 digits, nested (62, 628, 6281, 62812...) as real decks are."""
    rng = np.random.default_rng(seed)
    found = {"62", "628", "6281", "6221", "44", "1", "65", "61"}
    while len(found) < PREFIXES_PER_GROUP:
        head = rng.choice(["628", "6221", "6222", "6231", "6261", "62"])
        found.add(head + "".join(rng.choice(list("0123456789"), rng.integers(1, 6))))
    return sorted(found)


def rates() -> pl.DataFrame:
    """The deck as the engine takes it (and as ``rates`` rows: see ``rate_rows``)."""
    rng = np.random.default_rng(5)
    deck = prefixes()
    n = GROUPS * len(deck)
    types = rng.choice(["per_minute", "per_second", "flat_rate"], n, p=[0.6, 0.3, 0.1])
    return pl.DataFrame(
        {
            "rate_id": np.arange(1, n + 1),
            "rate_group_id": np.repeat(np.arange(1, GROUPS + 1), len(deck)),
            "prefix": deck * GROUPS,
            "rate_type": types,
            "billing_rate": [Decimal(int(x)).scaleb(-2) for x in rng.integers(1000, 500_000, n)],
            "connect_fee": [Decimal(int(x)) for x in rng.choice([0, 0, 0, 150], n)],
            "billing_cycle": rng.choice([1, 6, 30, 60], n),
            "initial_increment": pl.Series(rng.choice([0, 0, 30], n)).replace(0, None),
            "effective_from": pl.repeat(None, n, dtype=pl.Datetime("us", "UTC"), eager=True),
            "effective_to": pl.repeat(None, n, dtype=pl.Datetime("us", "UTC"), eager=True),
        },
        schema_overrides={
            "billing_rate": pl.Decimal(38, 8),
            "connect_fee": pl.Decimal(38, 8),
            "initial_increment": pl.Int64,
        },
    )


def contracts() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "contract_id": np.arange(1, CONTRACTS + 1),
            "accountcode": [f"ACC{i:04d}" for i in range(1, CONTRACTS + 1)],
            "rate_group_id": np.arange(CONTRACTS) % GROUPS + 1,
            "rewrite_rules": pl.repeat(
                None, CONTRACTS, dtype=pl.List(pl.List(pl.String)), eager=True
            ),
            "currency": ["IDR"] * CONTRACTS,
        }
    )


def calls(n: int, seed: int = 6) -> pl.DataFrame:
    """``n`` calls of November 2025 in the Master.csv fields, oldest first."""
    rng = np.random.default_rng(seed)
    deck = np.array(prefixes())
    digits = pl.Series(rng.integers(10**12, 10**13, n)).cast(pl.String)
    prefix = pl.Series(deck[rng.integers(0, len(deck), n)])
    # a 13-digit number starting with the prefix, dialled one of the ways people do
    number = pl.select(
        pl.concat_str([pl.lit(prefix), pl.lit(digits).str.slice(pl.lit(prefix).str.len_chars())])
    ).to_series()
    style = pl.Series(rng.integers(0, 4, n))
    dst = (
        pl.DataFrame({"number": number, "style": style, "internal": rng.random(n) < 0.03})
        .select(
            pl.when("internal")
            .then(pl.lit(rng.integers(100, 999)).cast(pl.String))
            .when(pl.col("style") == 0)
            .then(pl.col("number"))
            .when(pl.col("style") == 1)
            .then(pl.concat_str([pl.lit("+"), "number"]))
            .when(pl.col("number").str.starts_with("62"))
            .then(pl.concat_str([pl.lit("0"), pl.col("number").str.slice(2)]))
            .otherwise(pl.concat_str([pl.lit("00"), "number"]))
        )
        .to_series()
    )
    offsets = np.sort(rng.integers(0, 30 * 86400, n))
    answered = rng.random(n) < 0.65
    billsec = np.where(answered, rng.integers(1, 900, n), 0)
    ring = rng.integers(0, 25, n)
    start = pl.Series(offsets * 1_000_000).cast(pl.Duration("us")) + MONTH_START.replace(
        tzinfo=None
    )
    src = rng.integers(100, 999, n).astype(str)
    frame = pl.DataFrame(
        {
            "accountcode": np.char.add(
                "ACC", np.char.zfill(rng.integers(1, CONTRACTS + 21, n).astype(str), 4)
            ),
            "src": src,
            "dst": dst,
            "dcontext": "from-internal",
            "clid": np.char.add(
                np.char.add('"Ext ', src), np.char.add('" <', np.char.add(src, ">"))
            ),
            "start": start,
            "ring": ring,
            "billsec": billsec,
            "answered": answered,
            "seq": np.arange(n),
        }
    )
    return frame.select(
        "accountcode",
        "src",
        "dst",
        "dcontext",
        "clid",
        channel=pl.format("SIP/{}-{}", "src", "seq"),
        dstchannel=pl.format("SIP/trunk-{}", "seq"),
        lastapp=pl.lit("Dial"),
        lastdata=pl.format("SIP/trunk/{},60,tT", "dst"),
        start=pl.col("start").dt.strftime("%Y-%m-%d %H:%M:%S"),
        answer=pl.when("answered").then(
            (pl.col("start") + pl.duration(seconds="ring")).dt.strftime("%Y-%m-%d %H:%M:%S")
        ),
        end=(pl.col("start") + pl.duration(seconds=pl.col("ring") + pl.col("billsec"))).dt.strftime(
            "%Y-%m-%d %H:%M:%S"
        ),
        duration=pl.col("ring") + pl.col("billsec"),
        billsec="billsec",
        disposition=pl.when("answered").then(pl.lit("ANSWERED")).otherwise(pl.lit("NO ANSWER")),
        amaflags=pl.lit("DOCUMENTATION"),
        uniqueid=pl.format("1761930000.{}", "seq"),
        userfield=pl.lit(""),
        peeraccount=pl.lit(""),
        linkedid=pl.format("1761930000.{}", "seq"),
        sequence="seq",
    )


def master_csv(n: int) -> Path:
    """A Master.csv of ``n`` calls, 21 columns, quoted as cdr_csv quotes (texts quoted,
    numbers and an empty answer time not)."""
    path = DATA / f"Master-{n}.csv"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        calls(n).write_csv(path, include_header=False, quote_style="non_numeric", null_value="")
    return path
